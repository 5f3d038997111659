// Package arch holds a test of ptrsweep's package structure: each
// third-party client lives in exactly one package, and a lower package never
// imports a higher one. It has no non-test code.
package arch

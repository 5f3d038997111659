// Package k8s checks ptrsweep's Kubernetes manifests (deploy/k8s): every
// overlay renders, every object decodes strictly into its API type, and the
// rendered pods follow the hardening rules of README.md, and every ptrsweep
// container's command line, environment and files are accepted by the real
// binary (--check-config; package podenv turns a rendered container into a
// local process). `make k8s-check` runs the tests.
package k8s

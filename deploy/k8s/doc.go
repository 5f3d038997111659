// Package k8s checks ptrsweep's Kubernetes manifests (deploy/k8s): every
// overlay renders, every object decodes strictly into its API type, and the
// rendered pods follow the hardening rules of README.md. It has no code of
// its own outside its tests; `make k8s-check` runs them.
package k8s

//go:build tools

// Package apiserver pins the Kubernetes binaries deploy/k8s/verify.sh builds
// (make k8s-verify): kube-apiserver, and kubectl when none is installed.
package apiserver

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kubectl"
)

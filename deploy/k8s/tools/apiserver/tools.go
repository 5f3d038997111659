//go:build tools

// Package apiserver pins kube-apiserver for make k8s-verify (deploy/k8s/verify.sh).
package apiserver

import _ "k8s.io/kubernetes/cmd/kube-apiserver"

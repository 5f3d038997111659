#!/usr/bin/env bash
# make k8s-verify: a server-side dry run of every overlay against a real
# kube-apiserver (built from the k8s.io/kubernetes module in tools/apiserver)
# and etcd (Debian's etcd-server), both on 127.0.0.1 with random ports and
# their data in a temporary directory. The API server decodes every object
# strictly, validates and defaults it, and runs its admission plugins
# (PodSecurity "restricted" warns about any pod template that breaks it).
# Only the processes this script starts are stopped, by PID.
#
#   deploy/k8s/verify.sh [BIN_DIR]      (BIN_DIR: where kube-apiserver is built; default bin/)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
bin=${1:-$root/bin}
mkdir -p "$bin"
bin=$(cd "$bin" && pwd)
work=$(mktemp -d /tmp/ptrsweep-k8s-verify.XXXXXX)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
	rm -rf "$work"
}
trap cleanup EXIT

say() { echo "k8s-verify: $*"; }
die() { echo "k8s-verify: $*" >&2; exit 1; }

if ! command -v etcd >/dev/null; then
	say "installing etcd-server (Debian)"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q etcd-server >/dev/null
fi
for tool in openssl python3; do
	command -v "$tool" >/dev/null || die "$tool is missing: apt-get install -y $tool"
done

say "building kube-apiserver into $bin (first build: minutes)"
(cd "$here/tools/apiserver" && CGO_ENABLED=0 go build -o "$bin/kube-apiserver" k8s.io/kubernetes/cmd/kube-apiserver)
kubectl=${KUBECTL:-}
if [ -z "$kubectl" ]; then
	if command -v kubectl >/dev/null; then
		kubectl=$(command -v kubectl)
	else
		say "no kubectl on PATH: building it from the same module"
		(cd "$here/tools/apiserver" && CGO_ENABLED=0 go build -o "$bin/kubectl" k8s.io/kubernetes/cmd/kubectl)
		kubectl=$bin/kubectl
	fi
fi

# Free loopback ports, chosen by the kernel.
read -r etcd_port peer_port api_port < <(python3 -c '
import socket
ss = [socket.socket() for _ in range(3)]
for s in ss: s.bind(("127.0.0.1", 0))
print(*[s.getsockname()[1] for s in ss])')

etcd --name verify --data-dir "$work/etcd" \
	--listen-client-urls "http://127.0.0.1:$etcd_port" --advertise-client-urls "http://127.0.0.1:$etcd_port" \
	--listen-peer-urls "http://127.0.0.1:$peer_port" --initial-advertise-peer-urls "http://127.0.0.1:$peer_port" \
	--initial-cluster "verify=http://127.0.0.1:$peer_port" --log-level warn >"$work/etcd.log" 2>&1 &
pids+=($!)

openssl genrsa -out "$work/sa.key" 2048 2>/dev/null
openssl rsa -in "$work/sa.key" -pubout -out "$work/sa.pub" 2>/dev/null
token=$(openssl rand -hex 16)
echo "$token,verify,verify,system:masters" >"$work/tokens.csv"
mkdir -p "$work/certs"

"$bin/kube-apiserver" --bind-address=127.0.0.1 --advertise-address=127.0.0.1 --secure-port="$api_port" \
	--etcd-servers="http://127.0.0.1:$etcd_port" --cert-dir="$work/certs" \
	--token-auth-file="$work/tokens.csv" --authorization-mode=AlwaysAllow \
	--service-account-issuer=https://kubernetes.default.svc --service-account-key-file="$work/sa.pub" \
	--service-account-signing-key-file="$work/sa.key" --service-cluster-ip-range=10.96.0.0/16 --endpoint-reconciler-type=none \
	>"$work/apiserver.log" 2>&1 &
pids+=($!)

export KUBECONFIG=$work/kubeconfig
"$kubectl" config set-cluster verify --server="https://127.0.0.1:$api_port" --insecure-skip-tls-verify=true >/dev/null
"$kubectl" config set-credentials verify --token="$token" >/dev/null
"$kubectl" config set-context verify --cluster=verify --user=verify >/dev/null
"$kubectl" config use-context verify >/dev/null

for i in $(seq 1 120); do
	if "$kubectl" get --raw /readyz >/dev/null 2>&1; then break; fi
	if ! kill -0 "${pids[1]}" 2>/dev/null; then tail -20 "$work/apiserver.log" >&2; die "kube-apiserver exited"; fi
	[ "$i" -lt 120 ] || { tail -20 "$work/apiserver.log" >&2; die "kube-apiserver not ready after 120 s"; }
	sleep 1
done
say "kube-apiserver from k8s.io/kubernetes $(cd "$here/tools/apiserver" && go list -m -f '{{.Version}}' k8s.io/kubernetes), etcd $(etcd --version | awk '/etcd Version/{print $3}'), kubectl $("$kubectl" version --client 2>/dev/null | awk '/Client Version/{print $3}')"

"$kubectl" apply -f "$here/crds/" >/dev/null
"$kubectl" wait --for condition=established --timeout=60s -f "$here/crds/" >/dev/null
# The namespace for real (with its PodSecurity labels): a dry run of
# namespaced objects needs it to exist.
"$kubectl" apply -f "$here/base/namespace.yaml" >/dev/null

failed=0
for dir in "$here"/overlays/*/; do
	o=$(basename "$dir")
	if "$kubectl" apply --dry-run=server -k "$dir" >"$work/$o.out" 2>"$work/$o.err"; then
		n=$(grep -c . "$work/$o.out")
		if grep -q 'Warning:' "$work/$o.err"; then
			say "overlay $o: FAIL ($n objects accepted, with warnings)"
			grep 'Warning:' "$work/$o.err" >&2
			failed=1
		else
			say "overlay $o: ok ($n objects accepted by the server)"
		fi
	else
		say "overlay $o: FAIL"
		cat "$work/$o.err" >&2
		failed=1
	fi
done
[ "$failed" = 0 ] || die "some overlays were refused"
say "every overlay passed"

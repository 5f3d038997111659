package k8s_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nats-io/nats-server/v2/server"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
)

// configFile writes key of the rendered ConfigMap name to dir and returns
// its path.
func configFile(t *testing.T, objs []object, name, key, dir string) string {
	t.Helper()
	ob := find(objs, "ConfigMap", name)
	if ob == nil {
		t.Fatalf("no ConfigMap %s", name)
	}
	data, ok := ob.typed.(*corev1.ConfigMap).Data[key]
	if !ok {
		t.Fatalf("ConfigMap %s has no key %s", name, key)
	}
	path := filepath.Join(dir, key)
	if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// The rendered nats.conf of every overlay is one nats-server accepts
// (unknown fields are errors there), with the variables the StatefulSet
// sets; prod's is a three-route JetStream cluster.
func TestNATSConfig(t *testing.T) {
	t.Setenv("POD_NAME", "nats-0")
	t.Setenv("NATS_WORKER_PASSWORD", "test-worker")
	t.Setenv("NATS_COORDINATOR_PASSWORD", "test-coordinator")
	for _, o := range overlays {
		objs := render(t, o)
		path := configFile(t, objs, "nats-config", "nats.conf", t.TempDir())
		opts, err := server.ProcessConfigFile(path)
		if err != nil {
			t.Fatalf("%s: nats.conf: %v", o, err)
		}
		if !opts.JetStream || opts.HTTPPort != 8222 || opts.Port != 4222 {
			t.Errorf("%s: nats.conf: jetstream %v, port %d, monitoring %d; want true, 4222, 8222", o, opts.JetStream, opts.Port, opts.HTTPPort)
		}
		var users []string
		for _, u := range opts.Users {
			if u.Account == nil || u.Account.Name != "PTRSWEEP" {
				t.Errorf("%s: NATS user %s is not in account PTRSWEEP", o, u.Username)
			}
			users = append(users, u.Username)
		}
		if strings.Join(users, ",") != "ptrsweep_worker,ptrsweep_coordinator" {
			t.Errorf("%s: NATS users %v, want ptrsweep_worker and ptrsweep_coordinator", o, users)
		}
		replicas := *find(objs, "StatefulSet", "nats").typed.(*appsv1.StatefulSet).Spec.Replicas
		if replicas > 1 && (opts.Cluster.Name == "" || len(opts.Routes) != int(replicas)) {
			t.Errorf("%s: %d NATS servers, cluster %q with %d routes; want a named cluster routing to each", o, replicas, opts.Cluster.Name, len(opts.Routes))
		}
		if replicas == 1 && len(opts.Routes) != 0 {
			t.Errorf("%s: one NATS server with %d routes", o, len(opts.Routes))
		}
	}
}

// The rendered unbound.conf passes unbound-checkconf (Debian's unbound).
func TestUnboundConfig(t *testing.T) {
	checkconf, err := exec.LookPath("unbound-checkconf")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("unbound-checkconf is missing: apt-get install -y unbound")
		}
		t.Skip("unbound-checkconf is missing: apt-get install -y unbound")
	}
	for _, o := range overlays {
		dir := t.TempDir()
		path := configFile(t, render(t, o), "unbound-config", "unbound.conf", dir)
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		// The pod mounts the ConfigMap at /etc/unbound-ptrsweep, its
		// working directory; here that is dir.
		conf := strings.ReplaceAll(string(b), "/etc/unbound-ptrsweep", dir)
		if conf == string(b) {
			t.Fatalf("%s: unbound.conf does not name /etc/unbound-ptrsweep", o)
		}
		if err := os.WriteFile(path, []byte(conf), 0o600); err != nil {
			t.Fatal(err)
		}
		if out, err := exec.Command(checkconf, path).CombinedOutput(); err != nil {
			t.Errorf("%s: unbound-checkconf: %v\n%s", o, err, out)
		}
	}
}

package k8s_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/ptrsweep/ptrsweep/deploy/k8s/podenv"
)

var (
	binOnce sync.Once
	binDir  string
	binErr  error
	binOut  []byte
)

// ptrsweepBinaries builds worker and coordinator from the repository root
// once per test run and returns their directory.
func ptrsweepBinaries(t *testing.T) string {
	t.Helper()
	binOnce.Do(func() {
		binDir, binErr = os.MkdirTemp("", "ptrsweep-k8s-bin-")
		if binErr != nil {
			return
		}
		cmd := exec.Command("go", "build", "-buildvcs=false", "-o", binDir+"/", "./cmd/worker", "./cmd/coordinator")
		cmd.Dir = "../.."
		binOut, binErr = cmd.CombinedOutput()
	})
	if binErr != nil {
		t.Fatalf("go build ./cmd/worker ./cmd/coordinator: %v\n%s", binErr, binOut)
	}
	return binDir
}

func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// ptrsweepBinary returns the binary a container of image runs ("worker",
// "coordinator"), or "" for a container of another image.
func ptrsweepBinary(c *corev1.Container) string {
	name := c.Image
	if i := strings.LastIndexByte(name, '@'); i >= 0 {
		name = name[:i]
	}
	if i := strings.LastIndexByte(name, ':'); i > strings.LastIndexByte(name, '/') {
		name = name[:i]
	}
	for _, b := range []string{"worker", "coordinator"} {
		if strings.HasSuffix(name, "ptrsweep/"+b) {
			return b
		}
	}
	return ""
}

// checkConfig runs container c of a pod of spec with --check-config, as
// the kubelet would start it (arguments, environment, mounted files), and
// returns its exit code and output.
func checkConfig(t *testing.T, world *podenv.World, spec *corev1.PodSpec, c *corev1.Container) (int, string) {
	t.Helper()
	bin := filepath.Join(ptrsweepBinaries(t), ptrsweepBinary(c))
	p, err := world.Materialise("ptrsweep-pod-0", spec, c, nil)
	if err != nil {
		t.Fatal(err)
	}
	argv := append([]string(nil), p.Command...)
	if len(argv) == 0 {
		argv = []string{bin}
	} else {
		// The image's binary by its name: /worker, worker, /ko-app/worker…
		argv[0] = filepath.Join(filepath.Dir(bin), filepath.Base(argv[0]))
	}
	argv = append(append(argv, p.Args...), "--check-config")
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = p.Env // nothing from the test's own environment
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err = cmd.Run()
	if cmd.ProcessState == nil {
		t.Fatalf("%v: %v", argv, err)
	}
	return cmd.ProcessState.ExitCode(), out.String()
}

// worldOf materialises the Secrets and ConfigMaps of objs under a temp root.
func worldOf(t *testing.T, objs []object) *podenv.World {
	t.Helper()
	docs := make([][]byte, len(objs))
	for i, ob := range objs {
		docs[i] = ob.yaml
	}
	w, err := podenv.NewWorld(t.TempDir(), docs)
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// TestContainersAcceptedByBinary runs every ptrsweep container (and init
// container) of every overlay with --check-config: the real binary parses
// the container's flags, environment and files exactly as a run would.
func TestContainersAcceptedByBinary(t *testing.T) {
	for _, o := range overlays {
		t.Run(o, func(t *testing.T) {
			objs := render(t, o)
			world := worldOf(t, objs)
			checked := map[string]bool{}
			for _, p := range pods(objs) {
				// prod: the user creates the Secrets; the check uses
				// placeholder values for the keys the pod refers to.
				world.PlaceholderSecrets(p.spec)
				cs, _ := allContainers(p.spec)
				for i := range cs {
					c := &cs[i]
					b := ptrsweepBinary(c)
					if b == "" {
						continue
					}
					checked[b] = true
					code, out := checkConfig(t, world, p.spec, c)
					if code != 0 || !strings.HasPrefix(out, "config ok: ") {
						t.Errorf("%s container %s (%s %s): exit %d, want 0 and \"config ok: …\":\n%s", p.where, c.Name, b, strings.Join(c.Args, " "), code, out)
					} else {
						t.Logf("%s container %s: %s", p.where, c.Name, strings.TrimSpace(out))
					}
				}
			}
			if !checked["worker"] || !checked["coordinator"] {
				t.Errorf("checked %v: want worker and coordinator containers in overlays/%s", checked, o)
			}
		})
	}
}

// TestCheckConfigCatchesBadManifest shows that the check fails a container
// with a flag the binary lacks, an unset secret file or a bad DSN.
func TestCheckConfigCatchesBadManifest(t *testing.T) {
	objs := render(t, "dev")
	world := worldOf(t, objs)
	spec := workerJobSpec(t, objs).Template.Spec
	for _, c := range []struct {
		name string
		edit func(c *corev1.Container)
	}{
		{"unknown flag", func(c *corev1.Container) { c.Args = append(c.Args, "--metrics-addr=:9090") }},
		{"bad qps", func(c *corev1.Container) { c.Args = append(c.Args, "--qps=fast") }},
		{"password file not mounted", func(c *corev1.Container) { c.VolumeMounts = c.VolumeMounts[1:] }},
		{"bad DSN", func(c *corev1.Container) {
			for i := range c.Env {
				if c.Env[i].Name == "PTRSWEEP_CLICKHOUSE" {
					c.Env[i].Value = "mysql://clickhouse:9000"
				}
			}
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := spec.DeepCopy()
			w := &s.Containers[0]
			if w.Name != "worker" {
				t.Fatalf("first container is %s, want worker", w.Name)
			}
			c.edit(w)
			code, out := checkConfig(t, world, s, w)
			if code != 2 {
				t.Errorf("exit %d, want 2:\n%s", code, out)
			}
		})
	}
}

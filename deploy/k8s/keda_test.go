package k8s_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	kedav1alpha1 "github.com/kedacore/keda/v2/apis/keda/v1alpha1"
	batchv1 "k8s.io/api/batch/v1"
	"sigs.k8s.io/yaml"
)

// queueConstants reads the string constants of the queue package from its
// source, so the manifests follow a rename there.
func queueConstants(t *testing.T) map[string]string {
	t.Helper()
	files, err := filepath.Glob("../../internal/queue/*.go")
	if err != nil || len(files) == 0 {
		t.Fatalf("internal/queue sources: %v (%d files)", err, len(files))
	}
	consts := map[string]string{}
	fset := token.NewFileSet()
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		af, err := parser.ParseFile(fset, f, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range af.Decls {
			gd, ok := d.(*ast.GenDecl)
			if !ok || gd.Tok != token.CONST {
				continue
			}
			for _, s := range gd.Specs {
				vs := s.(*ast.ValueSpec)
				for i, n := range vs.Names {
					if i >= len(vs.Values) {
						continue
					}
					if lit, ok := vs.Values[i].(*ast.BasicLit); ok && lit.Kind == token.STRING {
						if v, err := strconv.Unquote(lit.Value); err == nil {
							consts[n.Name] = v
						}
					}
				}
			}
		}
	}
	return consts
}

func TestKEDATriggerMatchesQueue(t *testing.T) {
	consts := queueConstants(t)
	stream, consumer := consts["WorkStream"], consts["Consumer"]
	if stream == "" || consumer == "" {
		t.Fatalf("internal/queue has no string constants WorkStream and Consumer (found %v)", consts)
	}
	ob := find(render(t, "prod-keda"), "ScaledJob", "ptrsweep-worker")
	if ob == nil {
		t.Fatal("prod-keda has no ScaledJob ptrsweep-worker")
	}
	sj := ob.typed.(*kedav1alpha1.ScaledJob)
	if len(sj.Spec.Triggers) != 1 {
		t.Fatalf("ScaledJob triggers: %d, want 1", len(sj.Spec.Triggers))
	}
	tr := sj.Spec.Triggers[0]
	md := tr.Metadata
	for _, c := range []struct{ name, got, want string }{
		{"type", tr.Type, "nats-jetstream"},
		{"stream", md["stream"], stream},
		{"consumer", md["consumer"], consumer},
		// The prod NATS is a cluster: KEDA must ask every server, through
		// the headless service.
		{"endpoint", md["natsServerMonitoringEndpoint"], "nats-headless.ptrsweep.svc.cluster.local:8222"},
	} {
		if c.got != c.want {
			t.Errorf("ScaledJob trigger %s = %q, want %q", c.name, c.got, c.want)
		}
	}
	if md["account"] == "" || !strings.Contains(string(mustRead(t, "overlays/prod/nats.conf")), md["account"]+" {") {
		t.Errorf("ScaledJob trigger account %q is not an account of overlays/prod/nats.conf", md["account"])
	}
}

// The ScaledJob runs exactly the worker Job's pod (the component copies it).
func TestScaledJobRunsTheWorkerPod(t *testing.T) {
	job := find(render(t, "prod"), "Job", "ptrsweep-worker").typed.(*batchv1.Job)
	sj := find(render(t, "prod-keda"), "ScaledJob", "ptrsweep-worker").typed.(*kedav1alpha1.ScaledJob)
	if !reflect.DeepEqual(job.Spec.Template, sj.Spec.JobTargetRef.Template) {
		a, _ := yaml.Marshal(job.Spec.Template)
		b, _ := yaml.Marshal(sj.Spec.JobTargetRef.Template)
		t.Errorf("ScaledJob pod template differs from the prod worker Job's:\n--- Job\n%s\n--- ScaledJob\n%s", a, b)
	}
	if !reflect.DeepEqual(job.Spec.PodFailurePolicy, sj.Spec.JobTargetRef.PodFailurePolicy) {
		t.Errorf("ScaledJob podFailurePolicy %+v, want the Job's %+v", sj.Spec.JobTargetRef.PodFailurePolicy, job.Spec.PodFailurePolicy)
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// schema/kustomization.yaml lists every schema/*.sql file, in order, so the
// schema Job applies what the binaries embed.
func TestSchemaConfigMapListsEverySQLFile(t *testing.T) {
	var k struct {
		ConfigMapGenerator []struct {
			Name  string   `json:"name"`
			Files []string `json:"files"`
		} `json:"configMapGenerator"`
	}
	if err := yaml.Unmarshal(mustRead(t, "../../schema/kustomization.yaml"), &k); err != nil {
		t.Fatal(err)
	}
	files, err := filepath.Glob("../../schema/*.sql")
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, f := range files {
		want = append(want, filepath.Base(f))
	}
	if len(k.ConfigMapGenerator) != 1 || strings.Join(k.ConfigMapGenerator[0].Files, ",") != strings.Join(want, ",") {
		t.Errorf("schema/kustomization.yaml lists %+v, want exactly %v in that order", k.ConfigMapGenerator, want)
	}
}

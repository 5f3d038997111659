package k8s_test

import (
	"bytes"
	"errors"
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	kedav1alpha1 "github.com/kedacore/keda/v2/apis/keda/v1alpha1"
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	sigsjson "sigs.k8s.io/json"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/yaml"
)

// overlays are every overlay under overlays/; TestOverlayList keeps the
// list complete.
var overlays = []string{"dev", "prod", "prod-keda", "prod-clickhouse-operator"}

// object is one rendered object, decoded strictly into its API type.
type object struct {
	kind, name string
	yaml       []byte
	typed      any
}

// newTyped returns an empty value of the API type of apiVersion and kind,
// or nil when the kind is not one the manifests may hold.
func newTyped(apiVersion, kind string) any {
	switch apiVersion + " " + kind {
	case "v1 Namespace":
		return &corev1.Namespace{}
	case "v1 ConfigMap":
		return &corev1.ConfigMap{}
	case "v1 Secret":
		return &corev1.Secret{}
	case "v1 Service":
		return &corev1.Service{}
	case "apps/v1 StatefulSet":
		return &appsv1.StatefulSet{}
	case "batch/v1 Job":
		return &batchv1.Job{}
	case "policy/v1 PodDisruptionBudget":
		return &policyv1.PodDisruptionBudget{}
	case "networking.k8s.io/v1 NetworkPolicy":
		return &networkingv1.NetworkPolicy{}
	case "keda.sh/v1alpha1 ScaledJob":
		return &kedav1alpha1.ScaledJob{}
	case "clickhouse.altinity.com/v1 ClickHouseInstallation":
		return &ClickHouseInstallation{}
	}
	return nil
}

// decodeStrict decodes one object's YAML into its API type as the API
// server does (sigs.k8s.io/json: field names case-sensitive); an unknown,
// misspelt or duplicate field is an error. encoding/json alone would accept
// readonlyRootFilesystem for readOnlyRootFilesystem.
func decodeStrict(doc []byte) (any, error) {
	var meta struct {
		APIVersion string `json:"apiVersion"`
		Kind       string `json:"kind"`
	}
	if err := yaml.Unmarshal(doc, &meta); err != nil {
		return nil, err
	}
	typed := newTyped(meta.APIVersion, meta.Kind)
	if typed == nil {
		return nil, fmt.Errorf("%s %s: not a kind these manifests may hold; add it to newTyped with its Go API type", meta.APIVersion, meta.Kind)
	}
	js, err := yaml.YAMLToJSONStrict(doc)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", meta.Kind, err)
	}
	strictErrs, err := sigsjson.UnmarshalStrict(js, typed)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", meta.Kind, err)
	}
	if len(strictErrs) > 0 {
		return nil, fmt.Errorf("%s: %w", meta.Kind, errors.Join(strictErrs...))
	}
	return typed, nil
}

var (
	renderMu    sync.Mutex
	renderCache = map[string][]object{}
)

// render builds overlays/<name> with kustomize's Go API and decodes every
// object strictly; renders are cached across tests.
func render(t *testing.T, overlay string) []object {
	t.Helper()
	renderMu.Lock()
	defer renderMu.Unlock()
	if objs, ok := renderCache[overlay]; ok {
		return objs
	}
	k := krusty.MakeKustomizer(krusty.MakeDefaultOptions())
	rm, err := k.Run(filesys.MakeFsOnDisk(), filepath.Join("overlays", overlay))
	if err != nil {
		t.Fatalf("kustomize build overlays/%s: %v", overlay, err)
	}
	var objs []object
	for _, r := range rm.Resources() {
		doc, err := r.AsYAML()
		if err != nil {
			t.Fatalf("overlays/%s: %s %s: %v", overlay, r.GetKind(), r.GetName(), err)
		}
		typed, err := decodeStrict(doc)
		if err != nil {
			t.Fatalf("overlays/%s: %s %s: %v", overlay, r.GetKind(), r.GetName(), err)
		}
		objs = append(objs, object{kind: r.GetKind(), name: r.GetName(), yaml: doc, typed: typed})
	}
	renderCache[overlay] = objs
	return objs
}

// find returns the rendered object of kind and name (a prefix for generated
// names with a hash suffix), or nil.
func find(objs []object, kind, name string) *object {
	for i := range objs {
		if objs[i].kind == kind && (objs[i].name == name || strings.HasPrefix(objs[i].name, name+"-")) {
			return &objs[i]
		}
	}
	return nil
}

func TestOverlaysRenderAndDecodeStrictly(t *testing.T) {
	for _, o := range overlays {
		t.Run(o, func(t *testing.T) {
			objs := render(t, o)
			kinds := map[string]int{}
			for _, ob := range objs {
				kinds[ob.kind]++
			}
			// Every overlay is a whole install: the namespace, NATS,
			// ClickHouse (one way or the other), the schema and
			// coordinator Jobs and a worker Job or ScaledJob.
			for _, want := range []struct{ kind, name string }{
				{"Namespace", "ptrsweep"}, {"StatefulSet", "nats"}, {"Service", "nats-headless"},
				{"Service", "clickhouse"}, {"Job", "ptrsweep-schema"}, {"Job", "ptrsweep-coordinator"},
				{"ConfigMap", "ptrsweep-schema"}, {"NetworkPolicy", "default-deny"},
			} {
				if find(objs, want.kind, want.name) == nil {
					t.Errorf("no %s %s among %v", want.kind, want.name, kinds)
				}
			}
			if find(objs, "Job", "ptrsweep-worker") == nil && find(objs, "ScaledJob", "ptrsweep-worker") == nil {
				t.Errorf("no worker Job or ScaledJob among %v", kinds)
			}
			if find(objs, "StatefulSet", "clickhouse") == nil && find(objs, "ClickHouseInstallation", "ptrsweep") == nil {
				t.Errorf("no ClickHouse StatefulSet or ClickHouseInstallation among %v", kinds)
			}
		})
	}
}

// TestOverlayList keeps overlays equal to the directories under overlays/.
func TestOverlayList(t *testing.T) {
	dirs, err := filepath.Glob("overlays/*/kustomization.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, d := range dirs {
		got = append(got, filepath.Base(filepath.Dir(d)))
	}
	want := append([]string(nil), overlays...)
	sort.Strings(got)
	sort.Strings(want)
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("overlays on disk %v, tested %v: add the new overlay to the overlays list", got, want)
	}
}

// TestStrictDecodingRejectsMisspelling shows that decoding is strict: a
// misspelt field anywhere in a rendered object fails.
func TestStrictDecodingRejectsMisspelling(t *testing.T) {
	objs := render(t, "prod-keda")
	for _, c := range []struct{ kind, name, field, typo string }{
		{"Job", "ptrsweep-coordinator", "restartPolicy:", "restartPolcy:"},
		{"StatefulSet", "nats", "volumeClaimTemplates:", "volumeClaimTemplate:"},
		{"ScaledJob", "ptrsweep-worker", "pollingInterval:", "pollInterval:"},
		{"ScaledJob", "ptrsweep-worker", "readOnlyRootFilesystem:", "readonlyRootFilesystem:"},
		{"NetworkPolicy", "ptrsweep-worker", "policyTypes:", "policyType:"},
	} {
		ob := find(objs, c.kind, c.name)
		if ob == nil {
			t.Fatalf("no %s %s", c.kind, c.name)
		}
		if _, err := decodeStrict(ob.yaml); err != nil {
			t.Fatalf("%s %s as rendered: %v", c.kind, c.name, err)
		}
		bad := bytes.Replace(ob.yaml, []byte(c.field), []byte(c.typo), 1)
		if bytes.Equal(bad, ob.yaml) {
			t.Fatalf("%s %s has no %s", c.kind, c.name, c.field)
		}
		if _, err := decodeStrict(bad); err == nil || !strings.Contains(err.Error(), "unknown field") {
			t.Errorf("%s %s with %s: got error %v, want an unknown field", c.kind, c.name, c.typo, err)
		}
	}
	chi := find(render(t, "prod-clickhouse-operator"), "ClickHouseInstallation", "ptrsweep")
	bad := bytes.Replace(chi.yaml, []byte("shardsCount:"), []byte("shardCount:"), 1)
	if _, err := decodeStrict(bad); err == nil || !strings.Contains(err.Error(), "unknown field") {
		t.Errorf("ClickHouseInstallation with shardCount: got error %v, want an unknown field", err)
	}
}

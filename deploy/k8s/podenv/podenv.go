// Package podenv turns a rendered container into the process the kubelet
// would start: its command and arguments with $(VAR) expanded as
// Kubernetes does, its environment with valueFrom resolved from the
// rendered Secrets and ConfigMaps (and the downward API's pod name and
// namespace), and its mounted Secret, ConfigMap and emptyDir volumes
// written as files under a temp root. Absolute paths of mounts in the
// environment and arguments are moved under that root, so the process
// finds its files where the manifest says, without writing to /etc.
package podenv

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"
)

// ErrMissing is returned when a container refers to a Secret, ConfigMap,
// key or volume the rendered objects do not hold.
var ErrMissing = errors.New("not among the rendered objects")

// World is what a pod's containers can refer to: the rendered Secrets and
// ConfigMaps, and the directory their files are written under.
type World struct {
	// Root is the directory standing in for the container's "/".
	Root string
	// Namespace is the downward API's metadata.namespace.
	Namespace  string
	secrets    map[string]map[string][]byte
	configMaps map[string]map[string]string
	// placeholders are the Secrets PlaceholderSecrets made.
	placeholders map[string]bool
}

// NewWorld collects the Secrets and ConfigMaps among docs (rendered YAML
// documents, one object each). Generated names keep their hash suffix;
// references find them by the name before it too.
func NewWorld(root string, docs [][]byte) (*World, error) {
	w := &World{Root: root, secrets: map[string]map[string][]byte{}, configMaps: map[string]map[string]string{}}
	for _, d := range docs {
		var meta struct {
			Kind     string `json:"kind"`
			Metadata struct {
				Name, Namespace string
			} `json:"metadata"`
		}
		if err := yaml.Unmarshal(d, &meta); err != nil {
			return nil, fmt.Errorf("rendered object: %w", err)
		}
		switch meta.Kind {
		case "Secret":
			var s corev1.Secret
			if err := yaml.Unmarshal(d, &s); err != nil {
				return nil, fmt.Errorf("secret %s: %w", meta.Metadata.Name, err)
			}
			m := map[string][]byte{}
			for k, v := range s.Data {
				m[k] = v
			}
			for k, v := range s.StringData {
				m[k] = []byte(v)
			}
			w.secrets[s.Name] = m
		case "ConfigMap":
			var c corev1.ConfigMap
			if err := yaml.Unmarshal(d, &c); err != nil {
				return nil, fmt.Errorf("configmap %s: %w", meta.Metadata.Name, err)
			}
			w.configMaps[c.Name] = c.Data
		}
		if w.Namespace == "" {
			w.Namespace = meta.Metadata.Namespace
		}
	}
	return w, nil
}

// lookup finds name in m, or the one generated name "name-<hash>".
func lookup[V any](m map[string]V, name string) (V, bool) {
	if v, ok := m[name]; ok {
		return v, true
	}
	var found []string
	for k := range m {
		if strings.HasPrefix(k, name+"-") && !strings.Contains(k[len(name)+1:], "-") {
			found = append(found, k)
		}
	}
	var zero V
	if len(found) != 1 {
		return zero, false
	}
	return m[found[0]], true
}

// PlaceholderSecrets adds a Secret, with a placeholder value for every key
// spec refers to, for each Secret spec needs that was not rendered (the
// prod overlays leave their Secrets to the user). It returns the names added.
func (w *World) PlaceholderSecrets(spec *corev1.PodSpec) []string {
	need := map[string]map[string]bool{}
	ref := func(name, key string) {
		if s, ok := w.Secret(name); ok && (!w.placeholders[name] || key == "" || s[key] != nil) {
			return
		}
		if need[name] == nil {
			need[name] = map[string]bool{}
		}
		if key != "" {
			need[name][key] = true
		}
	}
	for _, v := range spec.Volumes {
		if v.Secret != nil {
			ref(v.Secret.SecretName, "")
			for _, it := range v.Secret.Items {
				ref(v.Secret.SecretName, it.Key)
			}
		}
	}
	for _, cs := range [][]corev1.Container{spec.InitContainers, spec.Containers} {
		for _, c := range cs {
			for _, e := range c.Env {
				if e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil {
					ref(e.ValueFrom.SecretKeyRef.Name, e.ValueFrom.SecretKeyRef.Key)
				}
			}
		}
	}
	var added []string
	if w.placeholders == nil {
		w.placeholders = map[string]bool{}
	}
	for _, name := range sortedKeys(need) {
		m := w.secrets[name]
		if m == nil {
			m = map[string][]byte{}
		}
		for k := range need[name] {
			m[k] = []byte("placeholder-" + name + "-" + k)
		}
		w.secrets[name] = m
		w.placeholders[name] = true
		added = append(added, name)
	}
	return added
}

// Secret returns the Secret called name (or its generated name).
func (w *World) Secret(name string) (map[string][]byte, bool) { return lookup(w.secrets, name) }

// ConfigMap returns the ConfigMap called name (or its generated name).
func (w *World) ConfigMap(name string) (map[string]string, bool) { return lookup(w.configMaps, name) }

// SetConfigMapValue replaces key in the rendered ConfigMap name (or its
// generated name) before containers are materialised.
func (w *World) SetConfigMapValue(name, key, value string) error {
	cm, ok := w.ConfigMap(name)
	if !ok {
		return fmt.Errorf("configMap %s: %w", name, ErrMissing)
	}
	cm[key] = value
	return nil
}

// Process is a container as a local process.
type Process struct {
	// Command is the container's command (nil: the image's entrypoint).
	Command []string
	// Args are the container's arguments, $(VAR) expanded.
	Args []string
	// Env is the container's whole environment, KEY=value.
	Env []string
	// Mounts maps each mountPath to the directory or file under Root.
	Mounts map[string]string
	// Remap moves the mount paths in a string under Root, as done to the
	// environment and arguments (for config files naming mounted paths).
	Remap func(string) string
}

// Materialise writes the volumes c mounts under w.Root and returns c as a
// process of the pod podName (the downward API's metadata.name). rewrite,
// if not nil, is applied to every environment value and argument after
// expansion (a rehearsal maps service host:port strings with it).
func (w *World) Materialise(podName string, spec *corev1.PodSpec, c *corev1.Container, rewrite func(string) string) (*Process, error) {
	p := &Process{Mounts: map[string]string{}}
	for _, m := range c.VolumeMounts {
		local, err := w.mount(spec, m)
		if err != nil {
			return nil, fmt.Errorf("container %s: volume %s at %s: %w", c.Name, m.Name, m.MountPath, err)
		}
		p.Mounts[m.MountPath] = local
	}
	remap := pathRemapper(w.Root, p.Mounts)
	p.Remap = remap
	fix := func(s string) string {
		s = remap(s)
		if rewrite != nil {
			s = rewrite(s)
		}
		return s
	}
	vars := map[string]string{}
	var order []string
	set := func(k, v string) {
		if _, ok := vars[k]; !ok {
			order = append(order, k)
		}
		vars[k] = v
	}
	for _, ef := range c.EnvFrom {
		switch {
		case ef.ConfigMapRef != nil:
			cm, ok := w.ConfigMap(ef.ConfigMapRef.Name)
			if !ok {
				return nil, fmt.Errorf("container %s: envFrom configMap %s: %w", c.Name, ef.ConfigMapRef.Name, ErrMissing)
			}
			for _, k := range sortedKeys(cm) {
				set(ef.Prefix+k, fix(cm[k]))
			}
		case ef.SecretRef != nil:
			s, ok := w.Secret(ef.SecretRef.Name)
			if !ok {
				return nil, fmt.Errorf("container %s: envFrom secret %s: %w", c.Name, ef.SecretRef.Name, ErrMissing)
			}
			for _, k := range sortedKeys(s) {
				set(ef.Prefix+k, fix(string(s[k])))
			}
		}
	}
	for _, e := range c.Env {
		v, err := w.value(podName, c.Name, e, vars)
		if err != nil {
			return nil, err
		}
		set(e.Name, fix(v))
	}
	for _, k := range order {
		p.Env = append(p.Env, k+"="+vars[k])
	}
	for _, a := range c.Command {
		p.Command = append(p.Command, fix(Expand(a, vars)))
	}
	for _, a := range c.Args {
		p.Args = append(p.Args, fix(Expand(a, vars)))
	}
	return p, nil
}

// value returns the value of one env entry; literal values are expanded
// against the variables defined before it, as Kubernetes does.
func (w *World) value(podName, container string, e corev1.EnvVar, vars map[string]string) (string, error) {
	vf := e.ValueFrom
	switch {
	case vf == nil:
		return Expand(e.Value, vars), nil
	case vf.SecretKeyRef != nil:
		s, ok := w.Secret(vf.SecretKeyRef.Name)
		v, okk := s[vf.SecretKeyRef.Key]
		if !ok || !okk {
			return "", fmt.Errorf("container %s: env %s: secret %s key %s: %w", container, e.Name, vf.SecretKeyRef.Name, vf.SecretKeyRef.Key, ErrMissing)
		}
		return string(v), nil
	case vf.ConfigMapKeyRef != nil:
		cm, ok := w.ConfigMap(vf.ConfigMapKeyRef.Name)
		v, okk := cm[vf.ConfigMapKeyRef.Key]
		if !ok || !okk {
			return "", fmt.Errorf("container %s: env %s: configMap %s key %s: %w", container, e.Name, vf.ConfigMapKeyRef.Name, vf.ConfigMapKeyRef.Key, ErrMissing)
		}
		return v, nil
	case vf.FieldRef != nil:
		switch vf.FieldRef.FieldPath {
		case "metadata.name":
			return podName, nil
		case "metadata.namespace":
			return w.Namespace, nil
		}
		return "", fmt.Errorf("container %s: env %s: fieldRef %s: not supported here (add it to podenv)", container, e.Name, vf.FieldRef.FieldPath)
	}
	return "", fmt.Errorf("container %s: env %s: valueFrom kind not supported here (add it to podenv)", container, e.Name)
}

// mount writes the volume of m under w.Root and returns its local path.
func (w *World) mount(spec *corev1.PodSpec, m corev1.VolumeMount) (string, error) {
	var vol *corev1.Volume
	for i := range spec.Volumes {
		if spec.Volumes[i].Name == m.Name {
			vol = &spec.Volumes[i]
		}
	}
	if vol == nil {
		return "", ErrMissing
	}
	local := filepath.Join(w.Root, m.MountPath)
	files := map[string][]byte{}
	var items []corev1.KeyToPath
	switch {
	case vol.Secret != nil:
		s, ok := w.Secret(vol.Secret.SecretName)
		if !ok {
			return "", fmt.Errorf("secret %s: %w", vol.Secret.SecretName, ErrMissing)
		}
		for k, v := range s {
			files[k] = v
		}
		items = vol.Secret.Items
	case vol.ConfigMap != nil:
		cm, ok := w.ConfigMap(vol.ConfigMap.Name)
		if !ok {
			return "", fmt.Errorf("configMap %s: %w", vol.ConfigMap.Name, ErrMissing)
		}
		for k, v := range cm {
			files[k] = []byte(v)
		}
		items = vol.ConfigMap.Items
	case vol.EmptyDir != nil:
		return local, os.MkdirAll(local, 0o755)
	default:
		// A PVC: an empty directory standing in for the claim.
		return local, os.MkdirAll(local, 0o755)
	}
	if len(items) > 0 {
		sel := map[string][]byte{}
		for _, it := range items {
			v, ok := files[it.Key]
			if !ok {
				return "", fmt.Errorf("key %s: %w", it.Key, ErrMissing)
			}
			sel[it.Path] = v
		}
		files = sel
	}
	if m.SubPath != "" {
		v, ok := files[m.SubPath]
		if !ok {
			return "", fmt.Errorf("subPath %s: %w", m.SubPath, ErrMissing)
		}
		if err := os.MkdirAll(filepath.Dir(local), 0o755); err != nil {
			return "", err
		}
		return local, os.WriteFile(local, v, 0o644)
	}
	for name, v := range files {
		p := filepath.Join(local, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return "", err
		}
		if err := os.WriteFile(p, v, 0o644); err != nil {
			return "", err
		}
	}
	return local, nil
}

// pathRemapper returns a function that moves every mount path (as a whole
// path component sequence) in a string under root.
func pathRemapper(root string, mounts map[string]string) func(string) string {
	if len(mounts) == 0 {
		return func(s string) string { return s }
	}
	paths := sortedKeys(mounts)
	// Longest first, so /etc/ptrsweep/nats wins over /etc.
	sort.SliceStable(paths, func(i, j int) bool { return len(paths[i]) > len(paths[j]) })
	alt := make([]string, len(paths))
	for i, p := range paths {
		alt[i] = regexp.QuoteMeta(p)
	}
	re := regexp.MustCompile(`(^|[^A-Za-z0-9_.~/-])(` + strings.Join(alt, "|") + `)(/|$|[^A-Za-z0-9_.~-])`)
	return func(s string) string { return re.ReplaceAllString(s, "${1}"+root+"${2}${3}") }
}

// varRef matches $$ and $(NAME).
var varRef = regexp.MustCompile(`\$\$|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)`)

// Expand expands $(NAME) in s from vars as Kubernetes does: $$ is a
// literal $, and a reference to an undefined name stays as written.
func Expand(s string, vars map[string]string) string {
	return varRef.ReplaceAllStringFunc(s, func(m string) string {
		if m == "$$" {
			return "$"
		}
		if v, ok := vars[m[2:len(m)-1]]; ok {
			return v
		}
		return m
	})
}

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

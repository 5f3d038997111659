package k8s_test

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	kedav1alpha1 "github.com/kedacore/keda/v2/apis/keda/v1alpha1"
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
)

// noProbesAnnotation, followed by a container's name, is a pod template
// annotation giving the reason why that container has no probes.
const noProbesAnnotation = "ptrsweep.io/no-probes-"

// pod is a pod template of a rendered workload.
type pod struct {
	where       string // "Job/ptrsweep-worker"
	longRunning bool   // a server or worker pool: needs a PDB
	meta        metav1.ObjectMeta
	spec        *corev1.PodSpec
}

// pods returns the pod templates of every workload among objs.
func pods(objs []object) []pod {
	var ps []pod
	for _, ob := range objs {
		where := ob.kind + "/" + ob.name
		switch o := ob.typed.(type) {
		case *appsv1.StatefulSet:
			ps = append(ps, pod{where, true, o.Spec.Template.ObjectMeta, &o.Spec.Template.Spec})
		case *batchv1.Job:
			ps = append(ps, pod{where, o.Name == "ptrsweep-worker", o.Spec.Template.ObjectMeta, &o.Spec.Template.Spec})
		case *kedav1alpha1.ScaledJob:
			t := o.Spec.JobTargetRef.Template
			ps = append(ps, pod{where, true, t.ObjectMeta, &t.Spec})
		case *ClickHouseInstallation:
			for i := range o.Spec.Templates.PodTemplates {
				pt := &o.Spec.Templates.PodTemplates[i]
				// The operator makes the PDB of its StatefulSets.
				ps = append(ps, pod{where + "/" + pt.Name, false, pt.ObjectMeta, &pt.Spec})
			}
		}
	}
	return ps
}

// allContainers returns the init containers and containers of spec, and
// whether each runs for the pod's life (a container or a native sidecar).
func allContainers(spec *corev1.PodSpec) (cs []corev1.Container, longLived []bool) {
	for _, c := range spec.InitContainers {
		cs = append(cs, c)
		longLived = append(longLived, c.RestartPolicy != nil && *c.RestartPolicy == corev1.ContainerRestartPolicyAlways)
	}
	for _, c := range spec.Containers {
		cs = append(cs, c)
		longLived = append(longLived, true)
	}
	return cs, longLived
}

// imageRef matches name:tag or name@sha256:digest (with a registry host
// and port allowed in the name).
var imageRef = regexp.MustCompile(`^([a-z0-9.-]+(:[0-9]+)?/)?[a-z0-9._/-]+(:([A-Za-z0-9_][A-Za-z0-9_.-]{0,127}))?(@sha256:[0-9a-f]{64})?$`)

// checkImage returns why image is not pinned, or "".
func checkImage(image string) string {
	m := imageRef.FindStringSubmatch(image)
	switch {
	case m == nil:
		return "not an image reference"
	case m[4] == "" && m[5] == "":
		return "has neither tag nor digest (means latest)"
	case m[4] == "latest":
		return "is tagged latest"
	}
	return ""
}

func TestImagesPinned(t *testing.T) {
	for _, c := range []struct {
		image string
		bad   bool
	}{
		{"nats:2.11.9-alpine", false},
		{"registry.example.com:5000/ptrsweep/worker:v0.1.0", false},
		{"ptrsweep/worker@sha256:" + strings.Repeat("ab", 32), false},
		{"ptrsweep/worker", true},
		{"ptrsweep/worker:latest", true},
		{"registry.example.com:5000/ptrsweep/worker", true},
	} {
		if got := checkImage(c.image) != ""; got != c.bad {
			t.Errorf("checkImage(%q) = %q, want bad=%v", c.image, checkImage(c.image), c.bad)
		}
	}
	for _, o := range overlays {
		for _, p := range pods(render(t, o)) {
			cs, _ := allContainers(p.spec)
			for _, c := range cs {
				if why := checkImage(c.Image); why != "" {
					t.Errorf("%s: %s container %s: image %q %s: pin it with images: in the overlay", o, p.where, c.Name, c.Image, why)
				}
			}
		}
	}
}

// hardeningErrors returns what p breaks of the hardening rules.
func hardeningErrors(p pod) []string {
	var errs []string
	sc := p.spec.SecurityContext
	switch {
	case sc == nil:
		errs = append(errs, "no pod securityContext")
	default:
		if sc.RunAsNonRoot == nil || !*sc.RunAsNonRoot {
			errs = append(errs, "pod: runAsNonRoot is not true")
		}
		if sc.RunAsUser == nil || *sc.RunAsUser == 0 {
			errs = append(errs, "pod: runAsUser is not a non-zero number")
		}
		if sc.SeccompProfile == nil || sc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
			errs = append(errs, "pod: seccompProfile is not RuntimeDefault")
		}
	}
	if p.spec.HostNetwork || p.spec.HostPID || p.spec.HostIPC {
		errs = append(errs, "pod shares a host namespace")
	}
	cs, longLived := allContainers(p.spec)
	for i, c := range cs {
		csc := c.SecurityContext
		switch {
		case csc == nil:
			errs = append(errs, c.Name+": no securityContext")
		default:
			if csc.AllowPrivilegeEscalation == nil || *csc.AllowPrivilegeEscalation {
				errs = append(errs, c.Name+": allowPrivilegeEscalation is not false")
			}
			if csc.ReadOnlyRootFilesystem == nil || !*csc.ReadOnlyRootFilesystem {
				errs = append(errs, c.Name+": readOnlyRootFilesystem is not true")
			}
			if csc.Privileged != nil && *csc.Privileged {
				errs = append(errs, c.Name+": privileged")
			}
			if csc.Capabilities == nil || !slices.Equal(csc.Capabilities.Drop, []corev1.Capability{"ALL"}) || len(csc.Capabilities.Add) > 0 {
				errs = append(errs, c.Name+": capabilities are not drop [ALL] with nothing added")
			}
			if csc.RunAsUser != nil && *csc.RunAsUser == 0 {
				errs = append(errs, c.Name+": runs as root")
			}
		}
		for _, res := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
			if _, ok := c.Resources.Requests[res]; !ok {
				errs = append(errs, fmt.Sprintf("%s: no %s request", c.Name, res))
			}
			if _, ok := c.Resources.Limits[res]; !ok {
				errs = append(errs, fmt.Sprintf("%s: no %s limit", c.Name, res))
			}
		}
		// Run-to-completion init containers cannot have probes.
		if longLived[i] && (c.LivenessProbe == nil || c.ReadinessProbe == nil) && p.meta.Annotations[noProbesAnnotation+c.Name] == "" {
			errs = append(errs, c.Name+": no liveness and readiness probes, and no "+noProbesAnnotation+c.Name+" annotation saying why")
		}
	}
	return errs
}

func TestHardening(t *testing.T) {
	for _, o := range overlays {
		ps := pods(render(t, o))
		if len(ps) < 4 {
			t.Fatalf("%s: only %d pod templates", o, len(ps))
		}
		for _, p := range ps {
			for _, e := range hardeningErrors(p) {
				t.Errorf("%s: %s: %s", o, p.where, e)
			}
		}
	}
}

// TestHardeningCatchesViolations feeds the checks pods that break each rule.
func TestHardeningCatchesViolations(t *testing.T) {
	good := func(t *testing.T) pod {
		for _, p := range pods(render(t, "dev")) {
			if p.where == "Job/ptrsweep-worker" {
				cp := p
				cp.spec = p.spec.DeepCopy()
				return cp
			}
		}
		t.Fatal("dev has no worker Job")
		return pod{}
	}
	if errs := hardeningErrors(good(t)); len(errs) != 0 {
		t.Fatalf("the dev worker pod breaks rules: %v", errs)
	}
	yes := true
	for _, c := range []struct {
		name  string
		spoil func(p *pod)
		want  string
	}{
		{"root", func(p *pod) { p.spec.SecurityContext.RunAsUser = new(int64) }, "runAsUser"},
		{"seccomp", func(p *pod) { p.spec.SecurityContext.SeccompProfile = nil }, "seccompProfile"},
		{"writable root", func(p *pod) { p.spec.Containers[0].SecurityContext.ReadOnlyRootFilesystem = nil }, "readOnlyRootFilesystem"},
		{"capability", func(p *pod) {
			p.spec.InitContainers[0].SecurityContext.Capabilities.Add = []corev1.Capability{"NET_BIND_SERVICE"}
		}, "capabilities"},
		{"escalation", func(p *pod) { p.spec.Containers[0].SecurityContext.AllowPrivilegeEscalation = &yes }, "allowPrivilegeEscalation"},
		{"limits", func(p *pod) { p.spec.Containers[0].Resources.Limits = nil }, "limit"},
		{"probes", func(p *pod) { p.spec.InitContainers[0].ReadinessProbe = nil }, "probes"},
	} {
		p := good(t)
		c.spoil(&p)
		errs := hardeningErrors(p)
		if len(errs) == 0 || !strings.Contains(strings.Join(errs, "; "), c.want) {
			t.Errorf("%s: got %v, want an error about %s", c.name, errs, c.want)
		}
	}
}

// flagValue returns the value of --name=value in args, or "".
func flagValue(args []string, name string) string {
	for i, a := range args {
		if v, ok := strings.CutPrefix(a, "--"+name+"="); ok {
			return v
		}
		if a == "--"+name && i+1 < len(args) {
			return args[i+1]
		}
	}
	return ""
}

// workerJobSpec returns the worker's JobSpec: the Job's or the ScaledJob's.
func workerJobSpec(t *testing.T, objs []object) *batchv1.JobSpec {
	t.Helper()
	if ob := find(objs, "Job", "ptrsweep-worker"); ob != nil {
		return &ob.typed.(*batchv1.Job).Spec
	}
	if ob := find(objs, "ScaledJob", "ptrsweep-worker"); ob != nil {
		return ob.typed.(*kedav1alpha1.ScaledJob).Spec.JobTargetRef
	}
	t.Fatal("no worker Job or ScaledJob")
	return nil
}

// flushAllowance is what a worker needs after --grace to insert its last
// batch and write its unit log: the pod's grace period must cover both.
const flushAllowance = 30 * time.Second

func TestWorkerJob(t *testing.T) {
	for _, o := range overlays {
		objs := render(t, o)
		js := workerJobSpec(t, objs)
		ps := js.Template.Spec
		if ps.RestartPolicy != corev1.RestartPolicyNever {
			t.Errorf("%s: worker restartPolicy %q, want Never (required with podFailurePolicy)", o, ps.RestartPolicy)
		}
		if js.Completions != nil {
			t.Errorf("%s: worker Job has completions %d; want none (any pod's exit 0 means the queue is drained)", o, *js.Completions)
		}
		var failOn2, ignoreDisruption bool
		if js.PodFailurePolicy != nil {
			for _, r := range js.PodFailurePolicy.Rules {
				if r.Action == batchv1.PodFailurePolicyActionFailJob && r.OnExitCodes != nil &&
					r.OnExitCodes.Operator == batchv1.PodFailurePolicyOnExitCodesOpIn && slices.Contains(r.OnExitCodes.Values, 2) {
					failOn2 = true
				}
				if r.Action == batchv1.PodFailurePolicyActionIgnore && len(r.OnPodConditions) > 0 &&
					r.OnPodConditions[0].Type == corev1.DisruptionTarget {
					ignoreDisruption = true
				}
			}
		}
		if !failOn2 || !ignoreDisruption {
			t.Errorf("%s: worker podFailurePolicy: FailJob on exit 2 %v, Ignore DisruptionTarget %v; want both", o, failOn2, ignoreDisruption)
		}
		var worker *corev1.Container
		for i := range ps.Containers {
			if ps.Containers[i].Name == "worker" {
				worker = &ps.Containers[i]
			}
		}
		if worker == nil {
			t.Fatalf("%s: no worker container", o)
		}
		for _, want := range []string{"--exit-when-idle", "--resolvers=127.0.0.1:53", "--metrics-listen=:9090"} {
			if !slices.Contains(worker.Args, want) {
				t.Errorf("%s: worker args %v lack %s", o, worker.Args, want)
			}
		}
		grace, err := time.ParseDuration(flagValue(worker.Args, "grace"))
		if err != nil {
			t.Fatalf("%s: worker --grace: %v", o, err)
		}
		if ps.TerminationGracePeriodSeconds == nil || time.Duration(*ps.TerminationGracePeriodSeconds)*time.Second < grace+flushAllowance {
			t.Errorf("%s: terminationGracePeriodSeconds %v, want at least --grace %s + %s", o, ps.TerminationGracePeriodSeconds, grace, flushAllowance)
		}
		// The resolver: the pod's own Unbound sidecar, never a public one.
		var sidecar bool
		for _, c := range ps.InitContainers {
			if c.Name == "unbound" && c.RestartPolicy != nil && *c.RestartPolicy == corev1.ContainerRestartPolicyAlways {
				sidecar = true
			}
		}
		if !sidecar {
			t.Errorf("%s: worker pod has no unbound sidecar (an init container with restartPolicy Always)", o)
		}
	}
}

// Passwords and tokens come from Secrets: as files, or as variables filled
// from a secretKeyRef, never as literal values.
func TestCredentialsOnlyFromSecrets(t *testing.T) {
	secretish := regexp.MustCompile(`(?i)(password|token|secret)`)
	for _, o := range overlays {
		objs := render(t, o)
		for _, p := range pods(objs) {
			cs, _ := allContainers(p.spec)
			for _, c := range cs {
				for _, e := range c.Env {
					if !secretish.MatchString(e.Name) || strings.HasSuffix(e.Name, "_FILE") {
						continue
					}
					if e.ValueFrom == nil || e.ValueFrom.SecretKeyRef == nil {
						t.Errorf("%s: %s %s: %s is not from a Secret", o, p.where, c.Name, e.Name)
					}
				}
				for _, a := range append(slices.Clone(c.Args), c.Command...) {
					if strings.Contains(a, "password=") || strings.Contains(a, "token=") {
						t.Errorf("%s: %s %s: a credential on the command line: %q", o, p.where, c.Name, a)
					}
				}
			}
		}
		var secrets []string
		for _, ob := range objs {
			if ob.kind == "Secret" {
				secrets = append(secrets, ob.name)
				for k, v := range ob.typed.(*corev1.Secret).Data {
					if !strings.HasPrefix(string(v), "dev-only-") {
						t.Errorf("%s: Secret %s key %s is not an obviously-dev value", o, ob.name, k)
					}
				}
			}
		}
		if o == "dev" && len(secrets) != 2 {
			t.Errorf("dev: Secrets %v, want ptrsweep-nats and ptrsweep-clickhouse generated", secrets)
		}
		if o != "dev" && len(secrets) != 0 {
			t.Errorf("%s: renders Secrets %v; prod overlays expect the user to create them", o, secrets)
		}
	}
}

// Every long-running workload has exactly one PodDisruptionBudget.
func TestDisruptionBudgets(t *testing.T) {
	for _, o := range overlays {
		objs := render(t, o)
		var pdbs []*policyv1.PodDisruptionBudget
		for _, ob := range objs {
			if pdb, ok := ob.typed.(*policyv1.PodDisruptionBudget); ok {
				pdbs = append(pdbs, pdb)
			}
		}
		for _, p := range pods(objs) {
			var n int
			for _, pdb := range pdbs {
				sel, err := metav1.LabelSelectorAsSelector(pdb.Spec.Selector)
				if err != nil {
					t.Fatalf("%s: PDB %s: %v", o, pdb.Name, err)
				}
				if sel.Matches(labels.Set(p.meta.Labels)) {
					n++
				}
			}
			if p.longRunning && n != 1 {
				t.Errorf("%s: %s is long-running and has %d PodDisruptionBudgets, want 1", o, p.where, n)
			}
			if !p.longRunning && n != 0 {
				t.Errorf("%s: %s has %d PodDisruptionBudgets, want 0", o, p.where, n)
			}
		}
	}
}

// NetworkPolicies: everything denied by default; nothing reaches a worker
// but Prometheus on the metrics port.
func TestNetworkPolicies(t *testing.T) {
	for _, o := range overlays {
		objs := render(t, o)
		deny := find(objs, "NetworkPolicy", "default-deny")
		if deny == nil {
			t.Fatalf("%s: no default-deny NetworkPolicy", o)
		}
		dp := deny.typed.(*networkingv1.NetworkPolicy)
		if len(dp.Spec.PodSelector.MatchLabels) != 0 || len(dp.Spec.Ingress) != 0 || len(dp.Spec.Egress) != 0 || len(dp.Spec.PolicyTypes) != 2 {
			t.Errorf("%s: default-deny is not a deny-all of ingress and egress: %+v", o, dp.Spec)
		}
		workerLabels := labels.Set(workerJobSpec(t, objs).Template.Labels)
		for _, ob := range objs {
			np, ok := ob.typed.(*networkingv1.NetworkPolicy)
			if !ok {
				continue
			}
			sel, err := metav1.LabelSelectorAsSelector(&np.Spec.PodSelector)
			if err != nil {
				t.Fatal(err)
			}
			if !sel.Matches(workerLabels) {
				continue
			}
			for _, in := range np.Spec.Ingress {
				for _, port := range in.Ports {
					if port.Port == nil || port.Port.IntValue() != 9090 {
						t.Errorf("%s: NetworkPolicy %s lets in port %v to workers, want only the metrics port 9090", o, np.Name, port.Port)
					}
				}
				for _, from := range in.From {
					if from.PodSelector == nil || from.PodSelector.MatchLabels["app.kubernetes.io/name"] != "prometheus" {
						t.Errorf("%s: NetworkPolicy %s lets %+v reach workers, want only Prometheus", o, np.Name, from)
					}
				}
			}
		}
	}
}

package testenv

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// BuildCommands builds the module's commands cmds (names under cmd/, e.g.
// "worker") and, with nats, nats-server from the module, into a fresh temp
// directory of t, and returns that directory. It fails the test when a
// build fails.
func BuildCommands(t testing.TB, nats bool, cmds ...string) string {
	t.Helper()
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		t.Fatalf("go env GOMOD: %v", err)
	}
	root := filepath.Dir(strings.TrimSpace(string(out)))
	bin := t.TempDir()
	var builds [][]string
	if len(cmds) > 0 {
		args := []string{"build", "-o", bin + "/"}
		for _, c := range cmds {
			args = append(args, "./cmd/"+c)
		}
		builds = append(builds, args)
	}
	if nats {
		builds = append(builds, []string{"build", "-o", filepath.Join(bin, "nats-server"), "github.com/nats-io/nats-server/v2"})
	}
	for _, args := range builds {
		cmd := exec.Command("go", args...)
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	return bin
}

package podenv

import "testing"

func TestExpand(t *testing.T) {
	vars := map[string]string{"POD_NAME": "w-0", "SCAN": "dev"}
	for _, c := range []struct{ in, want string }{
		{"--name=$(POD_NAME)", "--name=w-0"},
		{"$(SCAN)-$(POD_NAME)", "dev-w-0"},
		{"$$(POD_NAME)", "$(POD_NAME)"},
		{"$(UNSET)", "$(UNSET)"},
		{"$HOME", "$HOME"},
	} {
		if got := Expand(c.in, vars); got != c.want {
			t.Errorf("Expand(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestPathRemapper(t *testing.T) {
	remap := pathRemapper("/r", map[string]string{"/etc/ptrsweep/nats": "", "/tmp": "", "/schema": ""})
	for _, c := range []struct{ in, want string }{
		{"/etc/ptrsweep/nats/worker-password", "/r/etc/ptrsweep/nats/worker-password"},
		{"clickhouse://u@h:9000/db?password_file=/tmp/pw", "clickhouse://u@h:9000/db?password_file=/r/tmp/pw"},
		{"for f in /schema/0*.sql; do", "for f in /r/schema/0*.sql; do"},
		{"/tmp", "/r/tmp"},
		{"/tmpfoo/x", "/tmpfoo/x"},
		{"/var/tmp/x", "/var/tmp/x"},
		{"nats://nats:4222", "nats://nats:4222"},
	} {
		if got := remap(c.in); got != c.want {
			t.Errorf("remap(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

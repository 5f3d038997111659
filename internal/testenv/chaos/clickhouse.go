package chaos

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/ptrsweep/ptrsweep/internal/testenv"
)

// ClickHouse is a private clickhouse-server process with its own data, tmp
// and log directories and its own ports; the machine's shared server is
// never touched. Stop and Start may be called repeatedly (an outage); they
// are not safe for concurrent use with each other.
type ClickHouse struct {
	bin      string
	dir      string
	config   string
	TCPPort  int
	HTTPPort int
	cred     *syscall.Credential
	env      []string
	ps       *procs
	proc     *testenv.Proc
}

// FindClickHouse returns the path of clickhouse-server, or ErrNoClickHouse.
func FindClickHouse() (string, error) {
	for _, p := range []string{"/usr/bin/clickhouse-server", "/usr/sbin/clickhouse-server"} {
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	if p, err := exec.LookPath("clickhouse-server"); err == nil {
		return p, nil
	}
	return "", ErrNoClickHouse
}

const chConfig = `<?xml version="1.0"?>
<yandex>
  <logger><level>warning</level><log>{{dir}}/log/server.log</log><errorlog>{{dir}}/log/err.log</errorlog><size>100M</size><count>1</count></logger>
  <tcp_port>{{tcp}}</tcp_port>
  <http_port>{{http}}</http_port>
  <interserver_http_port>{{inter}}</interserver_http_port>
  <listen_host>127.0.0.1</listen_host>
  <max_connections>512</max_connections>
  <keep_alive_timeout>3</keep_alive_timeout>
  <max_concurrent_queries>64</max_concurrent_queries>
  <uncompressed_cache_size>67108864</uncompressed_cache_size>
  <mark_cache_size>67108864</mark_cache_size>
  <path>{{dir}}/data/</path>
  <tmp_path>{{dir}}/tmp/</tmp_path>
  <user_files_path>{{dir}}/user_files/</user_files_path>
  <format_schema_path>{{dir}}/format_schemas/</format_schema_path>
  <users_config>{{dir}}/users.xml</users_config>
  <default_profile>default</default_profile>
  <default_database>default</default_database>
  <mlock_executable>false</mlock_executable>
</yandex>
`

const chUsers = `<?xml version="1.0"?>
<yandex>
  <profiles><default><max_memory_usage>2000000000</max_memory_usage></default></profiles>
  <users><default><password></password><networks><ip>127.0.0.1</ip><ip>::1</ip></networks><profile>default</profile><quota>default</quota></default></users>
  <quotas><default><interval><duration>3600</duration><queries>0</queries><errors>0</errors><result_rows>0</result_rows><read_rows>0</read_rows><execution_time>0</execution_time></interval></default></quotas>
</yandex>
`

// NewPrivateClickHouse writes the configuration of a private server (bin:
// clickhouse-server, FindClickHouse) under dir, plus files (paths relative
// to dir, e.g. "users.d/x.xml", merged by the server into users.xml), and
// returns it unstarted; env, if not nil, is added to the server's
// environment (for from_env settings). Start it, and Stop it when done.
func NewPrivateClickHouse(bin, dir string, files map[string][]byte, env []string) (*ClickHouse, error) {
	return newClickHouse(bin, dir, &procs{dir: dir}, files, env)
}

// newClickHouse writes the configuration of a private server under dir.
// As root, the server runs as the clickhouse user (which owns dir).
func newClickHouse(bin, dir string, ps *procs, files map[string][]byte, env []string) (*ClickHouse, error) {
	ch := &ClickHouse{bin: bin, dir: dir, ps: ps}
	if env != nil {
		ch.env = append(os.Environ(), env...)
	}
	var err error
	ports := make([]int, 3)
	for i := range ports {
		if ports[i], err = testenv.FreePort("127.0.0.1"); err != nil {
			return nil, err
		}
	}
	ch.TCPPort, ch.HTTPPort = ports[0], ports[1]
	for _, d := range []string{"log", "data", "tmp", "user_files", "format_schemas"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			return nil, fmt.Errorf("clickhouse dirs: %w", err)
		}
	}
	cfg := strings.NewReplacer("{{dir}}", dir, "{{tcp}}", strconv.Itoa(ports[0]), "{{http}}", strconv.Itoa(ports[1]),
		"{{inter}}", strconv.Itoa(ports[2])).Replace(chConfig)
	ch.config = filepath.Join(dir, "config.xml")
	if err := os.WriteFile(ch.config, []byte(cfg), 0o644); err != nil {
		return nil, fmt.Errorf("clickhouse config: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "users.xml"), []byte(chUsers), 0o644); err != nil {
		return nil, fmt.Errorf("clickhouse users: %w", err)
	}
	for name, b := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return nil, fmt.Errorf("clickhouse config: %w", err)
		}
		if err := os.WriteFile(p, b, 0o644); err != nil {
			return nil, fmt.Errorf("clickhouse config: %w", err)
		}
	}
	if os.Geteuid() == 0 {
		u, err := user.Lookup("clickhouse")
		if err == nil {
			uid, _ := strconv.Atoi(u.Uid)
			gid, _ := strconv.Atoi(u.Gid)
			ch.cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
			if err := chownR(dir, uid, gid); err != nil {
				return nil, err
			}
		}
	}
	return ch, nil
}

func chownR(dir string, uid, gid int) error {
	return filepath.Walk(dir, func(p string, _ os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		if err := os.Lchown(p, uid, gid); err != nil {
			return fmt.Errorf("chown %s: %w", p, err)
		}
		return nil
	})
}

// Start starts the server and waits until it answers queries.
func (c *ClickHouse) Start(ctx context.Context) error {
	p, err := c.ps.start("clickhouse", c.cred, c.env, c.bin, "--config-file="+c.config)
	if err != nil {
		return err
	}
	c.proc = p
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	err = p.WaitReady(ctx, 200*time.Millisecond, func(ctx context.Context) bool {
		_, err := c.Query(ctx, "", "SELECT 1")
		return err == nil
	})
	if err != nil {
		b, _ := os.ReadFile(filepath.Join(c.dir, "log", "err.log"))
		return fmt.Errorf("clickhouse-server on port %d: %w\n%s", c.TCPPort, err, lastLines(string(b), 10))
	}
	return nil
}

// Stop stops the server with SIGTERM (SIGKILL after 30 s) and waits.
func (c *ClickHouse) Stop() {
	if c.proc != nil && c.proc.Running() {
		c.proc.Stop(30 * time.Second)
	}
}

// Dir returns the server's directory (its logs are in Dir()/log).
func (c *ClickHouse) Dir() string { return c.dir }

// DSN returns the native-protocol DSN of database db.
func (c *ClickHouse) DSN(db string) string {
	return fmt.Sprintf("clickhouse://127.0.0.1:%d/%s", c.TCPPort, db)
}

// Query runs sql over the HTTP interface in database db ("" for default)
// and returns the TabSeparated result.
func (c *ClickHouse) Query(ctx context.Context, db, sql string) (string, error) {
	out, err := testenv.ClickHouseQuery(ctx, fmt.Sprintf("http://127.0.0.1:%d/", c.HTTPPort), db, sql)
	return strings.TrimSpace(out), err
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

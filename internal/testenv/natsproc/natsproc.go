// Package natsproc runs nats-server processes (built from the module:
// `go build -o bin/nats-server github.com/nats-io/nats-server/v2`) for the
// harness: one server, or a JetStream cluster of several on loopback, each
// node with its own store directory, client, monitoring and route ports. It
// reads the cluster's state from the monitoring endpoint (/jsz), so it needs
// no NATS client.
package natsproc

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/ptrsweep/ptrsweep/internal/testenv"
)

// ErrNoLeader is returned when no live node names a leader.
var ErrNoLeader = errors.New("no leader")

// Starter starts one process with argv; name names it in logs. The
// harness passes its own so the process is logged and stopped with the rest.
type Starter func(name string, argv ...string) (*testenv.Proc, error)

// Spec describes a server or a cluster.
type Spec struct {
	// Bin is the nats-server binary.
	Bin string
	// Dir holds one store directory per node.
	Dir string
	// Nodes is the number of servers: 1 for a plain server, 3 for the
	// smallest cluster that survives the loss of one node.
	Nodes int
	// Start starts the processes.
	Start Starter
}

// Node is one nats-server of a Cluster.
type Node struct {
	// Name is the server name (n1, n2, …).
	Name string
	// Port, MonPort and RoutePort are its client, monitoring and route
	// ports on 127.0.0.1 (RoutePort 0 for a single server).
	Port, MonPort, RoutePort int
	// Proc is the running process (the last one after Restart).
	Proc *testenv.Proc
	argv []string
}

// URL returns the node's client URL.
func (n *Node) URL() string { return "nats://127.0.0.1:" + strconv.Itoa(n.Port) }

// Cluster is a set of nats-server processes with JetStream on disk. Its
// processes belong to the Starter's owner; Cluster only starts them. It is
// not safe for concurrent use.
type Cluster struct {
	Nodes []*Node
	start Starter
}

// Start starts spec.Nodes servers and waits until each accepts clients and,
// for a cluster, until JetStream has a meta leader.
func Start(ctx context.Context, spec Spec) (*Cluster, error) {
	if spec.Nodes < 1 {
		return nil, fmt.Errorf("nats cluster of %d nodes: want at least 1", spec.Nodes)
	}
	c := &Cluster{start: spec.Start}
	for i := range spec.Nodes {
		n := &Node{Name: "n" + strconv.Itoa(i+1)}
		var err error
		if n.Port, err = testenv.FreePort("127.0.0.1"); err != nil {
			return nil, err
		}
		if n.MonPort, err = testenv.FreePort("127.0.0.1"); err != nil {
			return nil, err
		}
		if spec.Nodes > 1 {
			if n.RoutePort, err = testenv.FreePort("127.0.0.1"); err != nil {
				return nil, err
			}
		}
		c.Nodes = append(c.Nodes, n)
	}
	for _, n := range c.Nodes {
		n.argv = []string{spec.Bin, "-js", "-sd", filepath.Join(spec.Dir, n.Name), "-a", "127.0.0.1",
			"-p", strconv.Itoa(n.Port), "-m", strconv.Itoa(n.MonPort), "-n", n.Name}
		if spec.Nodes > 1 {
			var routes []string
			for _, o := range c.Nodes {
				if o != n {
					routes = append(routes, "nats://127.0.0.1:"+strconv.Itoa(o.RoutePort))
				}
			}
			n.argv = append(n.argv, "--cluster_name", "ptrsweep", "--cluster", "nats://127.0.0.1:"+strconv.Itoa(n.RoutePort),
				"--routes", strings.Join(routes, ","))
		}
		if err := c.run(n); err != nil {
			return c, err
		}
	}
	for _, n := range c.Nodes {
		if err := c.wait(ctx, n); err != nil {
			return c, err
		}
	}
	return c, nil
}

func (c *Cluster) run(n *Node) error {
	p, err := c.start("nats-"+n.Name, n.argv...)
	if err != nil {
		return fmt.Errorf("start nats-server %s: %w", n.Name, err)
	}
	n.Proc = p
	return nil
}

// wait waits until n accepts clients and, in a cluster, knows the meta leader.
func (c *Cluster) wait(ctx context.Context, n *Node) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := testenv.WaitTCP(ctx, "127.0.0.1:"+strconv.Itoa(n.Port), n.Proc); err != nil {
		return err
	}
	if err := testenv.WaitTCP(ctx, "127.0.0.1:"+strconv.Itoa(n.MonPort), n.Proc); err != nil {
		return err
	}
	if len(c.Nodes) == 1 {
		return nil
	}
	err := n.Proc.WaitReady(ctx, 200*time.Millisecond, func(ctx context.Context) bool {
		j, err := n.jsz(ctx, false)
		return err == nil && j.Meta.Leader != ""
	})
	if err != nil {
		return fmt.Errorf("nats-server %s: JetStream meta leader: %w", n.Name, err)
	}
	return nil
}

// URL returns the client URLs of every node, comma-separated, as ptrsweep's
// --nats takes them.
func (c *Cluster) URL() string {
	urls := make([]string, len(c.Nodes))
	for i, n := range c.Nodes {
		urls[i] = n.URL()
	}
	return strings.Join(urls, ",")
}

// jsz is the part of /jsz the harness reads.
type jsz struct {
	Meta struct {
		Leader string `json:"leader"`
	} `json:"meta_cluster"`
	AccountDetails []struct {
		StreamDetail []struct {
			Name    string `json:"name"`
			Cluster struct {
				Leader   string `json:"leader"`
				Replicas []struct {
					Name    string `json:"name"`
					Current bool   `json:"current"`
				} `json:"replicas"`
			} `json:"cluster"`
			Config struct {
				Replicas int `json:"num_replicas"`
			} `json:"config"`
		} `json:"stream_detail"`
	} `json:"account_details"`
}

func (n *Node) jsz(ctx context.Context, streams bool) (jsz, error) {
	u := fmt.Sprintf("http://127.0.0.1:%d/jsz", n.MonPort)
	if streams {
		u += "?streams=true&config=true"
	}
	var j jsz
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return j, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return j, fmt.Errorf("nats %s /jsz: %w", n.Name, err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(&j); err != nil {
		return j, fmt.Errorf("nats %s /jsz: %w", n.Name, err)
	}
	return j, nil
}

// StreamInfo is what the cluster says of a stream.
type StreamInfo struct {
	// Leader is the node that leads the stream (nil when none does).
	Leader *Node
	// Replicas is the stream's configured replica count.
	Replicas int
}

// Stream asks the live nodes about stream until one names its leader.
func (c *Cluster) Stream(ctx context.Context, stream string) (StreamInfo, error) {
	for _, n := range c.Nodes {
		if n.Proc == nil || !n.Proc.Running() {
			continue
		}
		j, err := n.jsz(ctx, true)
		if err != nil {
			continue
		}
		for _, a := range j.AccountDetails {
			for _, s := range a.StreamDetail {
				if s.Name != stream {
					continue
				}
				info := StreamInfo{Replicas: s.Config.Replicas, Leader: c.node(s.Cluster.Leader)}
				if len(c.Nodes) == 1 {
					info.Leader = c.Nodes[0]
				}
				if info.Leader != nil {
					return info, nil
				}
			}
		}
	}
	return StreamInfo{}, fmt.Errorf("stream %s: %w among the live nodes", stream, ErrNoLeader)
}

func (c *Cluster) node(name string) *Node {
	for _, n := range c.Nodes {
		if n.Name == name {
			return n
		}
	}
	return nil
}

// Kill ends node n with SIGKILL (by its PID) and waits until it is reaped.
func (c *Cluster) Kill(n *Node) {
	if n.Proc != nil && n.Proc.Running() {
		_ = n.Proc.Signal(syscall.SIGKILL)
		<-n.Proc.Done()
	}
}

// Restart starts node n again with its ports and store and waits until it
// is ready.
func (c *Cluster) Restart(ctx context.Context, n *Node) error {
	if err := c.run(n); err != nil {
		return err
	}
	return c.wait(ctx, n)
}

// Stop stops every running node: SIGTERM, then SIGKILL after d.
func (c *Cluster) Stop(d time.Duration) {
	for _, n := range c.Nodes {
		if n.Proc != nil && n.Proc.Running() {
			n.Proc.Stop(d)
		}
	}
}

package main

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/v1/layout"
)

// buildWorker builds the real worker binary statically, as `make images`
// does.
func buildWorker(t *testing.T) []byte {
	t.Helper()
	out := filepath.Join(t.TempDir(), "worker")
	cmd := exec.Command("go", "build", "-trimpath", "-buildvcs=false", "-o", out, "./cmd/worker")
	cmd.Dir = filepath.Join("..", "..")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/worker: %v\n%s", err, b)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// extract unpacks an OCI archive into a directory.
func extract(t *testing.T, archive []byte) string {
	t.Helper()
	dir := t.TempDir()
	tr := tar.NewReader(bytes.NewReader(archive))
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return dir
		}
		if err != nil {
			t.Fatalf("read archive: %v", err)
		}
		p := filepath.Join(dir, h.Name)
		if h.Typeflag == tar.TypeDir {
			if err := os.MkdirAll(p, 0o755); err != nil {
				t.Fatal(err)
			}
			continue
		}
		b, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func TestImageReadBack(t *testing.T) {
	bin := buildWorker(t)
	ca := []byte("-----BEGIN CERTIFICATE-----\ntest\n-----END CERTIFICATE-----\n")
	s := Spec{Repo: "ptrsweep/worker", Binary: "worker", Data: bin, CA: ca, Tag: "v0.0.0-test"}

	var archives [2][]byte
	for i := range archives {
		img, err := Build(s)
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		if _, err := WriteOCIArchive(&buf, img, s.Repo, s.Tag); err != nil {
			t.Fatal(err)
		}
		archives[i] = buf.Bytes()
	}
	if a, b := sha256.Sum256(archives[0]), sha256.Sum256(archives[1]); a != b {
		t.Fatalf("two builds of one binary give different archives: %x vs %x", a, b)
	}

	idx, err := layout.ImageIndexFromPath(extract(t, archives[0]))
	if err != nil {
		t.Fatalf("read OCI layout: %v", err)
	}
	im, err := idx.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	if len(im.Manifests) != 1 {
		t.Fatalf("index has %d manifests, want 1", len(im.Manifests))
	}
	if got, want := im.Manifests[0].Annotations["org.opencontainers.image.ref.name"], "ptrsweep/worker:v0.0.0-test"; got != want {
		t.Errorf("ref name = %q, want %q", got, want)
	}
	img, err := idx.Image(im.Manifests[0].Digest)
	if err != nil {
		t.Fatalf("image from layout: %v", err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	if got, want := cf.Config.User, "65532:65532"; got != want {
		t.Errorf("user = %q, want %q", got, want)
	}
	if got := cf.Config.Entrypoint; len(got) != 1 || got[0] != "/usr/local/bin/worker" {
		t.Errorf("entrypoint = %q, want [/usr/local/bin/worker]", got)
	}
	if cf.OS != "linux" || cf.Architecture != "amd64" {
		t.Errorf("platform = %s/%s, want linux/amd64", cf.OS, cf.Architecture)
	}

	layers, err := img.Layers()
	if err != nil || len(layers) != 1 {
		t.Fatalf("layers = %d (%v), want 1", len(layers), err)
	}
	rc, err := layers[0].Uncompressed()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	files := map[string][]byte{}
	tr := tar.NewReader(rc)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(tr)
		files[h.Name] = b
		if h.Name == "usr/local/bin/worker" && h.Mode&0o111 == 0 {
			t.Errorf("worker mode %o is not executable", h.Mode)
		}
	}
	if !bytes.Equal(files["usr/local/bin/worker"], bin) {
		t.Errorf("layer's usr/local/bin/worker (%d bytes) differs from the built binary (%d bytes)", len(files["usr/local/bin/worker"]), len(bin))
	}
	if !bytes.Equal(files["etc/ssl/certs/ca-certificates.crt"], ca) {
		t.Error("layer lacks the CA bundle")
	}
	if !strings.Contains(string(files["etc/passwd"]), ":65532:65532:") {
		t.Errorf("etc/passwd = %q, want the nonroot user 65532", files["etc/passwd"])
	}
}

func TestRunRefusesLatest(t *testing.T) {
	var out, errb bytes.Buffer
	err := run([]string{"--tag", "latest", "--image", "ptrsweep/worker=worker"}, &out, &errb)
	if err == nil || !strings.Contains(err.Error(), "latest") {
		t.Fatalf("run --tag latest = %v, want a refusal naming latest", err)
	}
	if err := run([]string{"--image", "noequals"}, &out, &errb); err == nil {
		t.Fatal("run --image noequals = nil, want an error")
	}
}

// Package main is ptrimage: it writes ptrsweep's container images as OCI
// image-layout tarballs without a Docker daemon and without a base image to
// pull. Each image holds one static binary, the CA certificates of the build
// machine, and an /etc/passwd naming the numeric non-root user the image runs
// as. The same inputs give the same bytes, so the same digest: timestamps are
// fixed and files are written in a fixed order.
//
// Usage (what `make images` runs):
//
//	ptrimage --bin bin --out bin/images --tag v0.3.0 \
//	    --image ptrsweep/worker=worker --image ptrsweep/coordinator=coordinator
//
// writes bin/images/ptrsweep-worker-v0.3.0.oci.tar and so on. Load one with
// `podman load -i …`, `skopeo copy oci-archive:… docker://registry/…`, or
// `docker load -i …` (Docker 25 or later reads OCI archives).
package main

import (
	"archive/tar"
	"bytes"
	"fmt"
	"io"
	"os"
	"path"
	"sort"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// UID and GID are the numeric user and group every image runs as (the
// conventional "nonroot" of distroless images). Kubernetes'
// runAsNonRoot check needs a numeric user in the image config.
const (
	UID = 65532
	GID = 65532
)

// epoch is the fixed time written into every file header and the image
// config, so that two builds of the same binary give the same digest.
var epoch = time.Unix(0, 0).UTC()

// Spec describes one image: its repository name (ptrsweep/worker), the
// binary's bytes and the name it is installed under in /usr/local/bin.
type Spec struct {
	Repo   string
	Binary string // the name under /usr/local/bin, also the entrypoint
	Data   []byte // the static binary
	CA     []byte // the PEM CA bundle installed at /etc/ssl/certs/ca-certificates.crt
	Tag    string
}

// file is one entry of the image's single layer.
type file struct {
	name string
	mode int64
	dir  bool
	data []byte
}

// rootfs returns the files of the image's layer, directories first, in a
// fixed order.
func rootfs(s Spec) []file {
	passwd := fmt.Sprintf("root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:%d:%d:nonroot:/home/nonroot:/sbin/nologin\n", UID, GID)
	group := fmt.Sprintf("root:x:0:\nnonroot:x:%d:\n", GID)
	fs := []file{
		{name: "etc/", dir: true, mode: 0o755},
		{name: "etc/ssl/", dir: true, mode: 0o755},
		{name: "etc/ssl/certs/", dir: true, mode: 0o755},
		{name: "home/", dir: true, mode: 0o755},
		{name: "home/nonroot/", dir: true, mode: 0o700},
		{name: "tmp/", dir: true, mode: 0o1777},
		{name: "usr/", dir: true, mode: 0o755},
		{name: "usr/local/", dir: true, mode: 0o755},
		{name: "usr/local/bin/", dir: true, mode: 0o755},
		{name: "etc/passwd", mode: 0o644, data: []byte(passwd)},
		{name: "etc/group", mode: 0o644, data: []byte(group)},
		{name: "etc/ssl/certs/ca-certificates.crt", mode: 0o644, data: s.CA},
		{name: "usr/local/bin/" + s.Binary, mode: 0o755, data: s.Data},
	}
	sort.SliceStable(fs, func(i, j int) bool { return fs[i].name < fs[j].name })
	return fs
}

// layerTar writes the files as an uncompressed tar with fixed owners and
// times.
func layerTar(fs []file) ([]byte, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, f := range fs {
		h := &tar.Header{
			Name:    f.name,
			Mode:    f.mode,
			ModTime: epoch,
			Format:  tar.FormatPAX,
		}
		if f.dir {
			h.Typeflag = tar.TypeDir
		} else {
			h.Typeflag = tar.TypeReg
			h.Size = int64(len(f.data))
		}
		if f.name == "home/nonroot/" {
			h.Uid, h.Gid = UID, GID
		}
		if err := tw.WriteHeader(h); err != nil {
			return nil, fmt.Errorf("tar header %s: %w", f.name, err)
		}
		if _, err := tw.Write(f.data); err != nil {
			return nil, fmt.Errorf("tar %s: %w", f.name, err)
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// Build returns the image of s: one layer, an OCI manifest and config with
// the non-root user, the entrypoint and a fixed creation time.
func Build(s Spec) (v1.Image, error) {
	raw, err := layerTar(rootfs(s))
	if err != nil {
		return nil, err
	}
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(raw)), nil
	}, tarball.WithMediaType(types.OCILayer))
	if err != nil {
		return nil, fmt.Errorf("layer: %w", err)
	}
	img := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
	img = mutate.ConfigMediaType(img, types.OCIConfigJSON)
	img, err = mutate.Append(img, mutate.Addendum{
		Layer:     layer,
		MediaType: types.OCILayer,
		History:   v1.History{Created: v1.Time{Time: epoch}, CreatedBy: "ptrimage: " + s.Binary, Comment: "static binary, CA certificates, passwd"},
	})
	if err != nil {
		return nil, fmt.Errorf("append layer: %w", err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	cf = cf.DeepCopy()
	cf.Architecture, cf.OS = "amd64", "linux"
	cf.Created = v1.Time{Time: epoch}
	cf.Config.User = fmt.Sprintf("%d:%d", UID, GID)
	cf.Config.Entrypoint = []string{"/usr/local/bin/" + s.Binary}
	cf.Config.Cmd = nil
	cf.Config.WorkingDir = "/home/nonroot"
	cf.Config.Env = []string{
		"PATH=/usr/local/bin",
		"SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt",
	}
	cf.Config.Labels = map[string]string{
		"org.opencontainers.image.title":   s.Repo,
		"org.opencontainers.image.version": s.Tag,
		"org.opencontainers.image.source":  "https://github.com/ptrsweep/ptrsweep",
	}
	return mutate.ConfigFile(img, cf)
}

// WriteOCIArchive writes img as an OCI image layout in a tar archive
// (oci-layout, index.json, blobs/sha256/…) with the reference name
// repo:tag in the index, and returns the image's manifest digest.
func WriteOCIArchive(w io.Writer, img v1.Image, repo, tag string) (v1.Hash, error) {
	digest, err := img.Digest()
	if err != nil {
		return v1.Hash{}, err
	}
	manifest, err := img.RawManifest()
	if err != nil {
		return v1.Hash{}, err
	}
	cfgName, err := img.ConfigName()
	if err != nil {
		return v1.Hash{}, err
	}
	cfg, err := img.RawConfigFile()
	if err != nil {
		return v1.Hash{}, err
	}
	blobs := map[v1.Hash][]byte{digest: manifest, cfgName: cfg}
	layers, err := img.Layers()
	if err != nil {
		return v1.Hash{}, err
	}
	for _, l := range layers {
		d, err := l.Digest()
		if err != nil {
			return v1.Hash{}, err
		}
		rc, err := l.Compressed()
		if err != nil {
			return v1.Hash{}, err
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			return v1.Hash{}, fmt.Errorf("read layer %s: %w", d, err)
		}
		blobs[d] = b
	}
	index := fmt.Sprintf(`{"schemaVersion":2,"mediaType":"%s","manifests":[{"mediaType":"%s","size":%d,"digest":"%s","platform":{"architecture":"amd64","os":"linux"},"annotations":{"org.opencontainers.image.ref.name":"%s"}}]}`,
		types.OCIImageIndex, types.OCIManifestSchema1, len(manifest), digest, repo+":"+tag)

	tw := tar.NewWriter(w)
	put := func(name string, data []byte) error {
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(data)), ModTime: epoch, Typeflag: tar.TypeReg, Format: tar.FormatPAX}); err != nil {
			return err
		}
		_, err := tw.Write(data)
		return err
	}
	for _, d := range []string{"blobs/", "blobs/sha256/"} {
		if err := tw.WriteHeader(&tar.Header{Name: d, Mode: 0o755, ModTime: epoch, Typeflag: tar.TypeDir, Format: tar.FormatPAX}); err != nil {
			return v1.Hash{}, err
		}
	}
	if err := put("oci-layout", []byte(`{"imageLayoutVersion":"1.0.0"}`)); err != nil {
		return v1.Hash{}, err
	}
	if err := put("index.json", []byte(index)); err != nil {
		return v1.Hash{}, err
	}
	names := make([]v1.Hash, 0, len(blobs))
	for h := range blobs {
		names = append(names, h)
	}
	sort.Slice(names, func(i, j int) bool { return names[i].Hex < names[j].Hex })
	for _, h := range names {
		if err := put(path.Join("blobs", h.Algorithm, h.Hex), blobs[h]); err != nil {
			return v1.Hash{}, fmt.Errorf("write blob %s: %w", h, err)
		}
	}
	return digest, tw.Close()
}

// writeFile builds the image of s and writes it to name.
func writeFile(name string, s Spec) (v1.Hash, error) {
	img, err := Build(s)
	if err != nil {
		return v1.Hash{}, fmt.Errorf("image %s: %w", s.Repo, err)
	}
	f, err := os.Create(name)
	if err != nil {
		return v1.Hash{}, err
	}
	d, err := WriteOCIArchive(f, img, s.Repo, s.Tag)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(name)
		return v1.Hash{}, fmt.Errorf("write %s: %w", name, err)
	}
	return d, nil
}

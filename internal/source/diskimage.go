package source

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/kiln-dev/kiln/internal/disk"
	"github.com/kiln-dev/kiln/internal/fetch"
	"github.com/kiln-dev/kiln/internal/hostexec"
)

// DiskImage provides bases from disk-image files or URLs (qcow2, raw, VHD;
// the format is detected from the content), pinned by sha256. The image's
// root filesystem is copied out once and cached by its digest.
type DiskImage struct {
	Runner   hostexec.Runner
	CacheDir string // bases live in CacheDir/disk/<sha256 prefix>/
}

var _ Resolver = (*DiskImage)(nil)

// Resolve implements Resolver.
func (d *DiskImage) Resolve(ctx context.Context, req Request, log Logger) (Base, error) {
	sum := strings.ToLower(req.Source.SHA256Checksum)
	if len(sum) != 64 {
		return Base{}, fmt.Errorf("a DiskImage source needs sha256Checksum (sha256sum FILE)")
	}
	dir := filepath.Join(d.CacheDir, "disk", sum[:24])
	if err := os.MkdirAll(filepath.Dir(dir), 0o700); err != nil {
		return Base{}, err
	}
	unlock, err := lockFile(ctx, dir+".lock")
	if err != nil {
		return Base{}, err
	}
	defer unlock()
	if b, err := readBaseMeta(dir); err == nil {
		b.Dir, b.Cached = filepath.Join(dir, "root"), true
		log.Printf("using cached disk-image base %s", sum)
		return b, nil
	}
	tmp := dir + ".tmp"
	os.RemoveAll(tmp)
	if err := os.MkdirAll(tmp, 0o700); err != nil {
		return Base{}, err
	}
	b, err := d.extract(ctx, req, tmp, sum, log)
	if err != nil {
		os.RemoveAll(tmp)
		return Base{}, err
	}
	meta, _ := json.MarshalIndent(b, "", "  ")
	if err := os.WriteFile(filepath.Join(tmp, "base.json"), meta, 0o600); err != nil {
		os.RemoveAll(tmp)
		return Base{}, err
	}
	os.RemoveAll(dir)
	if err := os.Rename(tmp, dir); err != nil {
		return Base{}, err
	}
	b.Dir = filepath.Join(dir, "root")
	return b, nil
}

func (d *DiskImage) extract(ctx context.Context, req Request, tmp, sum string, log Logger) (Base, error) {
	f := &fetch.Fetcher{TemplateDir: req.TemplateDir, Dir: filepath.Join(tmp, "download")}
	file, _, err := f.Fetch(ctx, req.Source.URI, sum)
	if err != nil {
		return Base{}, fmt.Errorf("disk-image source: %w", err)
	}
	format, err := disk.DetectFormat(file)
	if err != nil {
		return Base{}, err
	}
	log.Printf("disk-image source %s is %s (sha256 %s)", req.Source.URI, format, sum)
	raw := filepath.Join(tmp, "disk.raw")
	if err := disk.NewQemuImg(d.Runner).Convert(ctx, file, raw, "raw"); err != nil {
		return Base{}, fmt.Errorf("convert the disk-image source to raw: %w", err)
	}
	os.RemoveAll(filepath.Join(tmp, "download"))
	defer os.Remove(raw)
	offset, size, err := d.rootPartition(ctx, raw)
	if err != nil {
		return Base{}, err
	}
	if err := d.copyOut(ctx, raw, offset, size, filepath.Join(tmp, "root")); err != nil {
		return Base{}, err
	}
	root := filepath.Join(tmp, "root")
	osv := OSRelease(root)
	if osv == "" {
		return Base{}, fmt.Errorf("disk-image source %s: the partition at offset %d holds no Linux root filesystem (no /etc/os-release)", req.Source.URI, offset)
	}
	src := req.Source
	src.ExactVersion = sum[:12]
	return Base{Source: src, Digest: "sha256:" + sum, OSVersion: osv, CreatedAt: time.Now().UTC().Format(time.RFC3339)}, nil
}

// Partition type GUIDs that hold Linux root filesystems.
var linuxRootTypes = []string{"4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709", "0FC63DAF-8483-4772-8E79-3D69D8477DE4", "83"}

// rootPartition picks the root partition from sfdisk's JSON: an x86-64 root
// partition, else the largest Linux partition; a disk without a partition
// table is one filesystem.
func (d *DiskImage) rootPartition(ctx context.Context, raw string) (int64, int64, error) {
	res, err := d.Runner.Run(ctx, hostexec.Command{Name: "sfdisk", Args: []string{"--json", raw}})
	if err != nil {
		fi, serr := os.Stat(raw)
		if serr != nil {
			return 0, 0, serr
		}
		return 0, fi.Size(), nil
	}
	return PickRootPartition(res.Stdout)
}

// PickRootPartition chooses the root partition from `sfdisk --json` output
// and returns its byte offset and size.
func PickRootPartition(sfdiskJSON []byte) (int64, int64, error) {
	var pt struct {
		PartitionTable struct {
			SectorSize int64 `json:"sectorsize"`
			Partitions []struct {
				Start int64  `json:"start"`
				Size  int64  `json:"size"`
				Type  string `json:"type"`
			} `json:"partitions"`
		} `json:"partitiontable"`
	}
	if err := json.Unmarshal(sfdiskJSON, &pt); err != nil {
		return 0, 0, fmt.Errorf("read the partition table: %w", err)
	}
	ss := pt.PartitionTable.SectorSize
	if ss == 0 {
		ss = 512
	}
	best, bestRank := -1, -1
	for i, p := range pt.PartitionTable.Partitions {
		rank := -1
		for r, t := range linuxRootTypes {
			if strings.EqualFold(p.Type, t) {
				rank = len(linuxRootTypes) - r
			}
		}
		if rank > bestRank || (rank == bestRank && rank >= 0 && p.Size > pt.PartitionTable.Partitions[best].Size) {
			best, bestRank = i, rank
		}
	}
	if best < 0 || bestRank < 0 {
		return 0, 0, fmt.Errorf("the disk image has no Linux root partition")
	}
	p := pt.PartitionTable.Partitions[best]
	return p.Start * ss, p.Size * ss, nil
}

func (d *DiskImage) copyOut(ctx context.Context, raw string, offset, size int64, dst string) error {
	mnt := dst + ".mnt"
	if err := os.MkdirAll(mnt, 0o700); err != nil {
		return err
	}
	defer os.Remove(mnt)
	opts := fmt.Sprintf("ro,loop,offset=%d,sizelimit=%d", offset, size)
	if _, err := d.Runner.Run(ctx, hostexec.Command{Name: "mount", Args: []string{"-o", opts, raw, mnt}}); err != nil {
		return fmt.Errorf("mount the disk-image's root filesystem: %w", err)
	}
	defer d.Runner.Run(context.WithoutCancel(ctx), hostexec.Command{Name: "umount", Args: []string{mnt}})
	if err := os.MkdirAll(dst, 0o755); err != nil {
		return err
	}
	_, err := d.Runner.Run(ctx, hostexec.Command{Name: "cp", Args: []string{"-a", "--sparse=always", mnt + "/.", dst}})
	return err
}

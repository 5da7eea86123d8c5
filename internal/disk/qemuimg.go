package disk

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"

	"github.com/kiln-dev/kiln/internal/hostexec"
)

// Image formats kiln writes. FormatVHD is qemu-img's "vpc".
const (
	FormatRaw   = "raw"
	FormatQcow2 = "qcow2"
	FormatVHD   = "vpc"
	FormatVHDX  = "vhdx"
)

// QemuImg drives qemu-img.
type QemuImg struct {
	Runner hostexec.Runner
	Binary string // default "qemu-img"
	Logger *slog.Logger
}

// NewQemuImg returns a driver that runs qemu-img through r.
func NewQemuImg(r hostexec.Runner) *QemuImg { return &QemuImg{Runner: r} }

func (q *QemuImg) binary() string {
	if q.Binary != "" {
		return q.Binary
	}
	return "qemu-img"
}

func (q *QemuImg) logger() *slog.Logger {
	if q.Logger != nil {
		return q.Logger
	}
	return slog.Default()
}

func (q *QemuImg) run(ctx context.Context, args []string) (hostexec.Result, error) {
	return q.Runner.Run(ctx, hostexec.Command{Name: q.binary(), Args: args})
}

// ConvertOptions describe one qemu-img convert run.
type ConvertOptions struct {
	Src, SrcFormat string
	Dst, DstFormat string
	Compress       bool
	Options        []string // -o key=value items
}

// ConvertArgs builds the qemu-img convert command line.
func ConvertArgs(o ConvertOptions) []string {
	args := []string{"convert", "-q"}
	if o.SrcFormat != "" {
		args = append(args, "-f", o.SrcFormat)
	}
	args = append(args, "-O", o.DstFormat)
	if o.Compress {
		args = append(args, "-c")
	}
	if len(o.Options) > 0 {
		args = append(args, "-o", strings.Join(o.Options, ","))
	}
	return append(args, o.Src, o.Dst)
}

// ConvertPlan returns the convert runs to try, in order, for a target
// format: qcow2 is compressed with zstd and, if this qemu-img lacks zstd,
// with the default zlib; vpc is a fixed VHD of exactly the source size.
func ConvertPlan(src, srcFormat, dst, format string) ([]ConvertOptions, error) {
	base := ConvertOptions{Src: src, SrcFormat: srcFormat, Dst: dst, DstFormat: format}
	switch format {
	case FormatQcow2:
		zstd, zlib := base, base
		zstd.Compress, zstd.Options = true, []string{"compression_type=zstd"}
		zlib.Compress = true
		return []ConvertOptions{zstd, zlib}, nil
	case FormatRaw:
		return []ConvertOptions{base}, nil
	case FormatVHD, "vhd":
		base.DstFormat = FormatVHD
		base.Options = []string{"subformat=fixed", "force_size=on"}
		return []ConvertOptions{base}, nil
	}
	return nil, fmt.Errorf("convert to %q: unsupported format (want qcow2, raw or vpc)", format)
}

// Convert writes src as dst in format (qcow2, raw or vpc/vhd). A VHD source
// must have a virtual size that is a whole number of MiB, and the result's
// footer is verified.
func (q *QemuImg) Convert(ctx context.Context, src, dst, format string) error {
	srcFormat, err := DetectFormat(src)
	if err != nil {
		return fmt.Errorf("convert %s: %w", src, err)
	}
	plan, err := ConvertPlan(src, srcFormat, dst, format)
	if err != nil {
		return err
	}
	var size int64
	if plan[0].DstFormat == FormatVHD {
		if size, err = q.vhdSourceSize(ctx, src); err != nil {
			return err
		}
	}
	for i, o := range plan {
		_, err = q.run(ctx, ConvertArgs(o))
		if err == nil || i == len(plan)-1 || !isUnsupportedOption(err) {
			break
		}
		q.logger().Info("qemu-img lacks an option, falling back", "options", o.Options, "error", err)
		os.Remove(dst)
	}
	if err != nil {
		os.Remove(dst)
		return fmt.Errorf("convert %s to %s: %w", src, format, err)
	}
	if plan[0].DstFormat == FormatVHD {
		return checkVHDResult(dst, size)
	}
	return nil
}

func (q *QemuImg) vhdSourceSize(ctx context.Context, src string) (int64, error) {
	info, err := q.Info(ctx, src)
	if err != nil {
		return 0, err
	}
	if info.VirtualSize%MiB != 0 {
		return 0, fmt.Errorf("convert %s to VHD: virtual size %d is not a whole number of MiB, which Azure requires", src, info.VirtualSize)
	}
	return info.VirtualSize, nil
}

func checkVHDResult(dst string, size int64) error {
	vi, err := VerifyVHDFooter(dst)
	if err != nil {
		return err
	}
	if vi.CurrentSize != size {
		return fmt.Errorf("VHD %s: footer size %d, source size %d", dst, vi.CurrentSize, size)
	}
	return nil
}

func isUnsupportedOption(err error) bool {
	var xe *hostexec.ExitError
	if !errors.As(err, &xe) {
		return false
	}
	t := strings.ToLower(xe.Tail)
	return strings.Contains(t, "compression") || strings.Contains(t, "zstd") || strings.Contains(t, "invalid parameter")
}

// ImageInfo is the part of qemu-img info --output=json kiln uses.
type ImageInfo struct {
	Filename        string `json:"filename"`
	Format          string `json:"format"`
	VirtualSize     int64  `json:"virtual-size"`
	ActualSize      int64  `json:"actual-size"`
	ClusterSize     int64  `json:"cluster-size"`
	DirtyFlag       bool   `json:"dirty-flag"`
	BackingFilename string `json:"backing-filename"`
	BackingFormat   string `json:"backing-filename-format"`
	FormatSpecific  struct {
		Type string `json:"type"`
		Data struct {
			Compat          string `json:"compat"`
			CompressionType string `json:"compression-type"`
			Corrupt         bool   `json:"corrupt"`
		} `json:"data"`
	} `json:"format-specific"`
}

// InfoArgs builds the qemu-img info command line; format may be empty.
func InfoArgs(path, format string) []string {
	args := []string{"info", "--output=json", "--force-share"}
	if format != "" {
		args = append(args, "-f", format)
	}
	return append(args, path)
}

// ParseInfo decodes qemu-img info --output=json.
func ParseInfo(data []byte) (ImageInfo, error) {
	var info ImageInfo
	if err := json.Unmarshal(data, &info); err != nil {
		return ImageInfo{}, fmt.Errorf("parse qemu-img info: %w", err)
	}
	if info.Format == "" || info.VirtualSize <= 0 {
		return ImageInfo{}, errors.New("parse qemu-img info: no format or virtual size")
	}
	return info, nil
}

// Info describes the image at path.
func (q *QemuImg) Info(ctx context.Context, path string) (ImageInfo, error) {
	format, err := DetectFormat(path)
	if err != nil {
		return ImageInfo{}, err
	}
	res, err := q.run(ctx, InfoArgs(path, format))
	if err != nil {
		return ImageInfo{}, fmt.Errorf("image info %s: %w", path, err)
	}
	info, err := ParseInfo(res.Stdout)
	if err != nil {
		return ImageInfo{}, fmt.Errorf("image info %s: %w", path, err)
	}
	return info, nil
}

// CompareArgs builds the qemu-img compare command line.
func CompareArgs(a, aFormat, b, bFormat string) []string {
	return []string{"compare", "-q", "-f", aFormat, "-F", bFormat, a, b}
}

// ErrImagesDiffer is returned by Compare for images with different contents.
var ErrImagesDiffer = errors.New("images differ")

// Compare checks that a and b hold the same guest-visible contents.
func (q *QemuImg) Compare(ctx context.Context, a, b string) error {
	af, err := DetectFormat(a)
	if err != nil {
		return err
	}
	bf, err := DetectFormat(b)
	if err != nil {
		return err
	}
	_, err = q.run(ctx, CompareArgs(a, af, b, bf))
	var xe *hostexec.ExitError
	if errors.As(err, &xe) && xe.ExitCode == 1 {
		return fmt.Errorf("compare %s and %s: %w", a, b, ErrImagesDiffer)
	}
	if err != nil {
		return fmt.Errorf("compare %s and %s: %w", a, b, err)
	}
	return nil
}

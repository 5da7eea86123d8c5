package replicate

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"golang.org/x/sys/unix"
)

// chunk bounds one copy_file_range call and one buffer of the user-space
// copies, so that cancellation is noticed between chunks.
const (
	rangeChunk  = 64 << 20
	bufferBytes = 1 << 20
)

// errNoExtents says the source's extents cannot be listed (SEEK_DATA is
// not supported), so the sparse copy does not apply.
var errNoExtents = errors.New("SEEK_DATA is not supported")

// reflink shares src's blocks with dst (FICLONE); a variable so that tests
// can make it fail.
var reflink = func(dst, src *os.File) error {
	return unix.IoctlFileClone(int(dst.Fd()), int(src.Fd()))
}

// copyData fills the empty file dst with src's size bytes by the fastest
// method that works, and returns the method and the bytes copied.
func copyData(ctx context.Context, src, dst *os.File, size int64) (Method, int64, error) {
	if size > 0 && reflink(dst, src) == nil {
		return MethodReflink, size, nil
	}
	n, err := sparseCopy(ctx, src, dst, size)
	if !errors.Is(err, errNoExtents) {
		return MethodSparse, n, err
	}
	if err := dst.Truncate(0); err != nil {
		return "", 0, err
	}
	n, err = streamCopy(ctx, src, dst)
	return MethodStream, n, err
}

// sparseCopy sets dst's size and copies only src's data extents, leaving
// holes where src has them.
func sparseCopy(ctx context.Context, src, dst *os.File, size int64) (int64, error) {
	if err := dst.Truncate(size); err != nil {
		return 0, err
	}
	var copied int64
	for off := int64(0); off < size; {
		data, end, err := nextExtent(src, off, size)
		if err != nil {
			if off == 0 && errors.Is(err, unix.EINVAL) {
				return 0, fmt.Errorf("%w: %w", errNoExtents, err)
			}
			return copied, err
		}
		if data == size {
			break
		}
		if err := copyRange(ctx, src, dst, data, end-data); err != nil {
			return copied, err
		}
		copied += end - data
		off = end
	}
	return copied, nil
}

// nextExtent finds the data extent at or after off: [data, end). data is
// size when only a hole remains.
func nextExtent(f *os.File, off, size int64) (int64, int64, error) {
	fd := int(f.Fd())
	data, err := unix.Seek(fd, off, unix.SEEK_DATA)
	if errors.Is(err, unix.ENXIO) {
		return size, size, nil
	}
	if err != nil {
		return 0, 0, fmt.Errorf("seek data at %d: %w", off, err)
	}
	end, err := unix.Seek(fd, data, unix.SEEK_HOLE)
	if err != nil {
		return 0, 0, fmt.Errorf("seek hole at %d: %w", data, err)
	}
	return data, min(end, size), nil
}

// copyRange copies n bytes at off from src to dst, in the kernel with
// copy_file_range when it can, otherwise through a buffer.
func copyRange(ctx context.Context, src, dst *os.File, off, n int64) error {
	done, err := kernelCopy(ctx, src, dst, off, n)
	if err == nil {
		return nil
	}
	if !kernelCopyUnsupported(err) {
		return err
	}
	return bufferCopy(ctx, src, dst, off+done, n-done)
}

func kernelCopy(ctx context.Context, src, dst *os.File, off, n int64) (int64, error) {
	var done int64
	for done < n {
		if err := ctx.Err(); err != nil {
			return done, err
		}
		roff, woff := off+done, off+done
		c, err := unix.CopyFileRange(int(src.Fd()), &roff, int(dst.Fd()), &woff, int(min(n-done, rangeChunk)), 0)
		if err != nil {
			return done, fmt.Errorf("copy_file_range at %d: %w", off+done, err)
		}
		if c == 0 {
			return done, fmt.Errorf("source ended at %d while %d bytes were expected: it changed during the copy", off+done, off+n)
		}
		done += int64(c)
	}
	return done, nil
}

// kernelCopyUnsupported: copy_file_range cannot be used between these files.
func kernelCopyUnsupported(err error) bool {
	return errors.Is(err, unix.EXDEV) || errors.Is(err, unix.ENOSYS) || errors.Is(err, unix.EOPNOTSUPP) || errors.Is(err, unix.EINVAL)
}

func bufferCopy(ctx context.Context, src, dst *os.File, off, n int64) error {
	r := &ctxReader{ctx: ctx, r: io.NewSectionReader(src, off, n)}
	w := io.NewOffsetWriter(dst, off)
	c, err := io.CopyBuffer(w, r, make([]byte, bufferBytes))
	if err == nil && c != n {
		err = fmt.Errorf("source ended at %d while %d bytes were expected: it changed during the copy", off+c, off+n)
	}
	return err
}

// streamCopy copies every byte, for files whose extents cannot be listed.
func streamCopy(ctx context.Context, src, dst *os.File) (int64, error) {
	if _, err := src.Seek(0, io.SeekStart); err != nil {
		return 0, err
	}
	if _, err := dst.Seek(0, io.SeekStart); err != nil {
		return 0, err
	}
	return io.CopyBuffer(dst, &ctxReader{ctx: ctx, r: src}, make([]byte, bufferBytes))
}

// ctxReader stops reading once its context is done.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c *ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

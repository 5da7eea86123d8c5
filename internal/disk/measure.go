package disk

import (
	"context"
	"fmt"
	"io/fs"
	"path/filepath"
	"syscall"
)

const fsBlock = 4096

// TreeUsage is what a tree needs on an ext4 filesystem with 4 KiB blocks.
type TreeUsage struct {
	DataBytes int64 // file, directory and long symlink blocks
	Inodes    int64
}

// MeasureTree walks root and estimates its ext4 footprint. Hard links are
// counted once.
func MeasureTree(ctx context.Context, root string) (TreeUsage, error) {
	var u TreeUsage
	seen := map[[2]uint64]bool{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		if st, ok := info.Sys().(*syscall.Stat_t); ok && st.Nlink > 1 && !info.IsDir() {
			key := [2]uint64{uint64(st.Dev), st.Ino}
			if seen[key] {
				return nil
			}
			seen[key] = true
		}
		u.Inodes++
		switch {
		case info.Mode().IsRegular():
			u.DataBytes += roundUp(info.Size(), fsBlock)
		case info.IsDir():
			u.DataBytes += fsBlock
		case info.Mode()&fs.ModeSymlink != 0 && info.Size() >= 60:
			u.DataBytes += fsBlock
		}
		return nil
	})
	if err != nil {
		return u, fmt.Errorf("measure root tree %s: %w", root, err)
	}
	return u, nil
}

func roundUp(n, to int64) int64 { return (n + to - 1) / to * to }

// Ext4Overhead estimates the bytes mke2fs reserves for metadata on a
// filesystem of fsBytes: inode tables (one 256-byte inode per 16 KiB), the
// journal, and about 1% for bitmaps, group descriptors and directory growth.
func Ext4Overhead(fsBytes int64) int64 {
	return fsBytes/64 + ext4JournalBlocks(fsBytes/fsBlock)*fsBlock + fsBytes/100
}

// ext4JournalBlocks mirrors e2fsprogs' default journal size table.
func ext4JournalBlocks(blocks int64) int64 {
	switch {
	case blocks < 2048:
		return 0
	case blocks < 32768:
		return 1024
	case blocks < 256*1024:
		return 4096
	case blocks < 512*1024:
		return 8192
	case blocks < 4096*1024:
		return 16384
	case blocks < 8192*1024:
		return 32768
	case blocks < 16384*1024:
		return 65536
	case blocks < 32768*1024:
		return 131072
	}
	return 262144
}

// CheckFits reports, wrapping ErrTooSmall, when a tree cannot fit in an
// ext4 filesystem of fsBytes.
func CheckFits(u TreeUsage, fsBytes int64) error {
	need := u.DataBytes + Ext4Overhead(fsBytes)
	if need > fsBytes {
		return fmt.Errorf("root tree needs about %d MiB but the root partition has %d MiB: raise vmProfile.osDiskSizeGB: %w",
			need/MiB+1, fsBytes/MiB, ErrTooSmall)
	}
	if inodes := fsBytes / 16384; u.Inodes > inodes {
		return fmt.Errorf("root tree has %d files but a %d MiB root filesystem holds %d: raise vmProfile.osDiskSizeGB: %w",
			u.Inodes, fsBytes/MiB, inodes, ErrTooSmall)
	}
	return nil
}

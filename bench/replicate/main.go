// Command replicate measures kiln's replication of one file to a region
// directory: copy (reflink, sparse or stream), fsync, sha256 verification
// and atomic rename, as internal/replicate does it. bench/replicate.sh
// runs it next to `cp --sparse=always` and prints the ratio.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/kiln-dev/kiln/internal/replicate"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "replicate bench:", err)
		os.Exit(1)
	}
}

func run() error {
	src := flag.String("src", "", "file to replicate")
	dir := flag.String("dir", "", "region directory to replicate into")
	runs := flag.Int("runs", 3, "number of runs; the best is reported")
	sha := flag.String("sha256", "", "digest of -src (computed, untimed, when empty)")
	verify := flag.String("verify", "source", "how the copy is verified: source (compared with the verified source, as publish does) or hash (rehashed, as repair does)")
	flag.Parse()
	opts := replicate.Options{Verify: replicate.VerifySource}
	if *verify == "hash" {
		opts.Verify = replicate.VerifyHash
	}
	if *src == "" || *dir == "" || *runs < 1 {
		return errors.New("usage: replicate -src FILE -dir REGION_DIR [-runs N] [-sha256 HEX]")
	}
	ctx := context.Background()
	digest, err := sourceDigest(ctx, *src, *sha)
	if err != nil {
		return err
	}
	best, err := bestOf(ctx, *src, *dir, digest, *runs, opts)
	if err != nil {
		return err
	}
	fmt.Printf("KILN_TOTAL_SECONDS=%.3f\n", best.wall.Seconds())
	fmt.Printf("KILN_COPY_SYNC_SECONDS=%.3f\n", (best.Copy + best.Sync).Seconds())
	fmt.Printf("KILN_VERIFY_SECONDS=%.3f\n", best.Verify.Seconds())
	fmt.Printf("KILN_METHOD=%s\n", best.Method)
	return nil
}

func sourceDigest(ctx context.Context, src, given string) (string, error) {
	if given != "" {
		return given, nil
	}
	t := time.Now()
	d, err := replicate.HashFile(ctx, src)
	if err != nil {
		return "", err
	}
	fmt.Printf("source sha256 %s (hashed in %.2f s, not counted)\n", d, time.Since(t).Seconds())
	return d, nil
}

// timed is a replication and its wall time (fsync and verification overlap).
type timed struct {
	replicate.Result
	wall time.Duration
}

// bestOf replicates runs times from scratch and returns the fastest run.
func bestOf(ctx context.Context, src, dir, digest string, runs int, opts replicate.Options) (timed, error) {
	var best timed
	for i := 1; i <= runs; i++ {
		if err := os.RemoveAll(dir); err != nil {
			return best, err
		}
		t := time.Now()
		res, err := replicate.ReplicateWith(ctx, src, dir, digest, opts)
		if err != nil {
			return best, err
		}
		wall := time.Since(t)
		fmt.Printf("run %d: %.3f s wall (copy %.3f s, fsync %.3f s, verify %.3f s), method %s, %d of %d bytes copied\n",
			i, wall.Seconds(), res.Copy.Seconds(), res.Sync.Seconds(), res.Verify.Seconds(), res.Method, res.DataBytes, res.Size)
		if i == 1 || wall < best.wall {
			best = timed{res, wall}
		}
	}
	return best, nil
}


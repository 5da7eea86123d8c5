// Command kiln is the golden-image factory: the CLI and, with `kiln serve`,
// the API server. See the README.
package main

import (
	"os"

	"github.com/kiln-dev/kiln/internal/cli"
)

func main() {
	os.Exit(cli.Main(os.Args[1:], os.Stdout, os.Stderr))
}

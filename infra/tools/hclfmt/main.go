// Command hclfmt checks that Terraform files are in canonical HCL format.
//
// It formats each file with hclwrite.Format, the HCL library's canonical
// formatter (the one terraform fmt is built on), after parsing it with
// hclwrite.ParseConfig so that a syntax error is reported, not formatted.
// Built offline from Debian's golang-github-hashicorp-hcl-v2-dev by
// .ci/infra-check, since no Terraform binary is published on the package
// registries CI can reach.
//
// Usage: hclfmt [-w] FILE...
// Without -w, lists every file whose formatting differs and exits 1.
// With -w, rewrites those files in place.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclwrite"
)

func main() {
	write := flag.Bool("w", false, "rewrite files in canonical format")
	flag.Parse()
	status := 0
	for _, path := range flag.Args() {
		src, err := os.ReadFile(path)
		if err != nil {
			fmt.Fprintf(os.Stderr, "%s: %v\n", path, err)
			status = 1
			continue
		}
		if _, diags := hclwrite.ParseConfig(src, path, hcl.InitialPos); diags.HasErrors() {
			fmt.Fprintf(os.Stderr, "%s: %s\n", path, diags.Error())
			status = 1
			continue
		}
		formatted := hclwrite.Format(src)
		if bytes.Equal(src, formatted) {
			continue
		}
		if *write {
			if err := os.WriteFile(path, formatted, 0o644); err != nil {
				fmt.Fprintf(os.Stderr, "%s: %v\n", path, err)
				status = 1
				continue
			}
			fmt.Printf("formatted %s\n", path)
			continue
		}
		fmt.Printf("not canonical: %s\n", path)
		status = 1
	}
	os.Exit(status)
}

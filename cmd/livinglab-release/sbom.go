// SPDX-License-Identifier: EUPL-1.2

package main

import (
	"fmt"
	"os"
	"strings"

	cdx "github.com/CycloneDX/cyclonedx-go"
	"github.com/CycloneDX/cyclonedx-gomod/pkg/generate/bin"
	"github.com/google/uuid"
	"github.com/rs/zerolog"
)

// writeSBOM writes the CycloneDX SBOM (JSON) of a built binary: every
// module in its build information and the Go standard library, with the
// licences of THIRD_PARTY_NOTICES (licences maps module paths to SPDX
// expressions). Its date is the commit's and its serial number derives
// from the binary's hash, so the same binary gives the same SBOM.
func writeSBOM(binary, out string, st stamp, licences map[string]string) error {
	gen, err := bin.NewGenerator(binary,
		bin.WithLogger(zerolog.Nop()),
		bin.WithIncludeStdlib(true),
		bin.WithVersionOverride(st.Version))
	if err != nil {
		return fmt.Errorf("sbom of %s: %w", binary, err)
	}
	bom, err := gen.Generate()
	if err != nil {
		return fmt.Errorf("sbom of %s: %w", binary, err)
	}
	sum, err := fileSHA256(binary)
	if err != nil {
		return err
	}
	bom.SerialNumber = uuid.NewSHA1(uuid.NameSpaceURL, []byte("urn:livinglab:sbom:sha256:"+sum)).URN()
	bom.Metadata.Timestamp = st.dateString()
	if c := bom.Metadata.Component; c != nil {
		c.Licenses = licenceChoice(spdxID)
	}
	if bom.Components != nil {
		for i := range *bom.Components {
			c := &(*bom.Components)[i]
			if lic, ok := licences[c.Name]; ok {
				c.Licenses = licenceChoice(lic)
			}
		}
	}
	f, err := os.Create(out)
	if err != nil {
		return err
	}
	enc := cdx.NewBOMEncoder(f, cdx.BOMFileFormatJSON).SetPretty(true)
	if err := enc.Encode(bom); err != nil {
		f.Close()
		return fmt.Errorf("write sbom %s: %w", out, err)
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Chtimes(out, st.Date, st.Date)
}

func licenceChoice(expr string) *cdx.Licenses {
	if strings.ContainsAny(expr, " ()") {
		return &cdx.Licenses{{Expression: expr}}
	}
	return &cdx.Licenses{{License: &cdx.License{ID: expr}}}
}

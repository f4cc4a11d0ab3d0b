package main

import (
	"fmt"
	"os"

	cdx "github.com/CycloneDX/cyclonedx-go"
	"github.com/CycloneDX/cyclonedx-gomod/pkg/generate/bin"
	"github.com/CycloneDX/cyclonedx-gomod/pkg/licensedetect/local"
	"github.com/google/uuid"
	"github.com/rs/zerolog"
)

// writeSBOM writes the CycloneDX SBOM (JSON) of a built binary: every
// module in its build information, the Go standard library, and the
// licences found in the modules. Its date is the commit's and its serial
// number derives from the binary's hash, so the same binary gives the same
// SBOM.
func writeSBOM(binary, out string, st stamp) error {
	gen, err := bin.NewGenerator(binary,
		bin.WithLogger(zerolog.Nop()),
		bin.WithIncludeStdlib(true),
		bin.WithVersionOverride(st.Version),
		bin.WithLicenseDetector(local.NewDetector(zerolog.Nop())))
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
		c.Licenses = &cdx.Licenses{{License: &cdx.License{ID: spdxID}}}
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

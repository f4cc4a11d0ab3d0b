// SPDX-License-Identifier: EUPL-1.2

package node

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/livinglab/livinglab/protocol"
)

func TestVocabularyURIs(t *testing.T) {
	for in, want := range map[string]string{"fi": euLanguage + "FIN", "en": euLanguage + "ENG", "sv": euLanguage + "SWE",
		"ga": euLanguage + "GLE", "el": euLanguage + "ELL", "zz-bad": ""} {
		if got := LanguageURI(in); got != want {
			t.Errorf("LanguageURI(%q) = %q, want %q", in, got, want)
		}
	}
	for in, want := range map[string]string{"FI": euCountry + "FIN", "IE": euCountry + "IRL", "NO": euCountry + "NOR", "QQ": ""} {
		if got := CountryURI(in); got != want {
			t.Errorf("CountryURI(%q) = %q, want %q", in, got, want)
		}
	}
}

// dcatValidator is the command that checks a catalogue against the
// DCAT-AP 3.0 SHACL shapes, or skips the test where its packages are not
// installed (.ci/run installs them; CI must not skip).
func dcatValidator(t *testing.T) string {
	t.Helper()
	dir, err := filepath.Abs(filepath.Join("testdata", "dcat"))
	if err != nil {
		t.Fatal(err)
	}
	_, nodeErr := exec.LookPath("node")
	_, modErr := os.Stat(filepath.Join(dir, "node_modules", "rdf-validate-shacl"))
	if nodeErr != nil || modErr != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("the SHACL validator is not installed (node: %v; packages: %v): .ci/run runs npm ci in %s", nodeErr, modErr, dir)
		}
		t.Skipf("the SHACL validator is not installed: run npm ci in %s", dir)
	}
	return filepath.Join(dir, "validate.mjs")
}

func shacl(t *testing.T, script string, doc any) (string, error) {
	t.Helper()
	b, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	f := filepath.Join(t.TempDir(), "catalog.jsonld")
	if err := os.WriteFile(f, b, 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, "node", script, f).CombinedOutput()
	return string(out), err
}

func TestCatalogDCATAP(t *testing.T) {
	script := dcatValidator(t)
	f, nodes := newFederation(t, 2)
	a, b := nodes[0], nodes[1]
	f.subscribe(a, "mobility")
	f.subscribe(b, "mobility", a)
	in := PracticeInput{Practice: protocol.Practice{Title: "Kylätaksi", Summary: "Kyläläiset ajavat vuorotellen.",
		Language: "fi", Translations: map[string]protocol.Translation{"en": {Title: "Village taxi", Summary: "Villagers take turns driving."}}},
		Topics: []string{"mobility"}}
	out, err := a.Node().PublishPractice(context.Background(), in, Review{FailClosed: true}, false)
	if err != nil {
		t.Fatal(err)
	}
	fromB := publish(t, b, "Harbour ferry", "mobility")
	waitHas(t, a, fromB, 20*time.Second)

	cat, err := a.Node().Catalog(CatalogQuery{Base: "https://data.region.example/"})
	if err != nil {
		t.Fatal(err)
	}
	ds := cat["dcat:dataset"].([]any)
	if len(ds) != 2 {
		t.Fatalf("%d datasets, want 2", len(ds))
	}
	byID := map[string]map[string]any{}
	for _, d := range ds {
		m := d.(map[string]any)
		byID[m["dct:identifier"].(map[string]any)["@value"].(string)] = m
	}
	d, ok := byID[out.CID]
	if !ok {
		t.Fatalf("no dataset has the identifier %s", out.CID)
	}
	if l := d["dct:language"].(map[string]any)["@id"]; l != euLanguage+"FIN" {
		t.Errorf("language %v", l)
	}
	if s := d["dct:spatial"].([]any)[0].(map[string]any)["@id"]; s != euCountry+"FIN" {
		t.Errorf("spatial %v", s)
	}
	dist := d["dcat:distribution"].([]any)[0].(map[string]any)
	if u := dist["dcat:accessURL"].(map[string]any)["@id"]; u != "https://data.region.example/api/v1/records/"+out.CID {
		t.Errorf("access URL %v", u)
	}
	if l := dist["dct:license"].(map[string]any)["@id"]; l != spdxURI+"CC-BY-4.0" {
		t.Errorf("licence %v", l)
	}
	if p := byID[fromB.String()]["dct:publisher"].(map[string]any)["foaf:name"].(map[string]any)["@value"]; p != "Region B" {
		t.Errorf("publisher of B's practice: %v", p)
	}

	if msg, err := shacl(t, script, cat); err != nil {
		t.Fatalf("the catalogue does not conform to DCAT-AP 3.0: %v\n%s", err, msg)
	}
	// The validator does refuse: a dataset without a title is a violation.
	delete(d, "dct:title")
	msg, err := shacl(t, script, cat)
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 1 || !strings.Contains(msg, "http://purl.org/dc/terms/title") {
		t.Fatalf("a dataset without a title passed: %v\n%s", err, msg)
	}

	if _, err := a.Node().Catalog(CatalogQuery{Base: "ftp://x"}); !errors.Is(err, ErrBadRequest) {
		t.Fatalf("a bad base: %v", err)
	}
}

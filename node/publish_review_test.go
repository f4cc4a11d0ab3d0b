// SPDX-License-Identifier: EUPL-1.2

package node

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// The one-step publish route takes a reviewer's keep and redact decisions,
// gates in the record's language and reports detector and evidence for
// each redaction.
func TestPublishOneStepReviewDecisions(t *testing.T) {
	a := startLiveNode(t, "A", liveOptions{found: true, api: true})
	pr := `{"title": "Anropsstyrd trafik för äldre i glesbygd",
	  "summary": "Projektet SilverLine leddes av Ebba Grön och Kjellbo. Tre äldre kvinnor i byn deltog. Kontakta registrator@timra.se.",
	  "language": "sv", "topics": ["transport"], "keep": ["Kjellbo"], "redact": ["SilverLine"]}`
	code, body := a.apiCall("POST", "/api/v1/practices?dry_run=true", pr, nil)
	if code != http.StatusOK {
		t.Fatalf("publish: %d %s", code, body)
	}
	var out Published
	if err := json.Unmarshal([]byte(body), &out); err != nil {
		t.Fatal(err)
	}
	if out.Practice.Title != "Anropsstyrd trafik för äldre i glesbygd" {
		t.Errorf("title altered: %q", out.Practice.Title)
	}
	s := out.Practice.Summary
	for _, want := range []string{"Kjellbo", "Färre än 5 äldre kvinnor", "registrator@timra.se"} {
		if !strings.Contains(s, want) {
			t.Errorf("summary %q lacks %q", s, want)
		}
	}
	for _, gone := range []string{"SilverLine", "Ebba Grön"} {
		if strings.Contains(s, gone) {
			t.Errorf("summary %q still has %q", s, gone)
		}
	}
	if len(out.Report.Findings) == 0 {
		t.Fatal("no findings reported")
	}
	for _, f := range out.Report.Findings {
		if f.Detector == "" || f.Evidence == "" {
			t.Errorf("finding without detector or evidence: %+v", f)
		}
	}
}

// SPDX-License-Identifier: EUPL-1.2

package web

import (
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/livinglab/livinglab/node"
)

// The uncertain names of a draft's preview: the reviewer confirms each as
// not personal (kept) or leaves it to be redacted.

// nameDecision is one uncertain name as the draft page offers it.
type nameDecision struct {
	Text   string
	Field  string
	Reason string
	Keep   bool
	ID     string
}

// namesToDecide lists the names a preview is unsure of and those already
// decided on, each once, with whether it is kept.
func namesToDecide(tr tr, pv *node.DraftPreview) []nameDecision {
	var names []nameDecision
	seen := map[string]bool{}
	add := func(text, field, reason string) {
		if text == "" || seen[strings.ToLower(text)] {
			return
		}
		seen[strings.ToLower(text)] = true
		names = append(names, nameDecision{Text: text, Field: field, Reason: reason,
			Keep: slices.Contains(pv.Confirmed, text), ID: "name-" + strconv.Itoa(len(names))})
	}
	for _, c := range pv.Report.Candidates {
		field := c.Field
		if tr.c != nil && tr.c.messages["en"]["field."+field] {
			field = tr.T("field." + field)
		}
		add(c.Text, field, c.Reason)
	}
	for _, c := range pv.Confirmed {
		add(c, "", tr.T("draft.confirmed_not_personal"))
	}
	for _, c := range pv.Redact {
		add(c, "", tr.T("draft.confirmed_personal"))
	}
	return names
}

// decisionsOf reads the reviewer's decisions on uncertain names: a ticked
// "keep" box confirms a name as not personal, every other name offered is
// redacted.
func decisionsOf(v url.Values) map[string][]string {
	keep := formValues(v, "keep")
	redact := []string{}
	for _, n := range v["name"] {
		if !slices.Contains(keep, n) && !slices.Contains(redact, n) {
			redact = append(redact, n)
		}
	}
	if keep == nil {
		keep = []string{}
	}
	return map[string][]string{"confirmed": keep, "redact": redact}
}

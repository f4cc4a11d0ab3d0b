// SPDX-License-Identifier: EUPL-1.2

package knowledge

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/dgraph-io/badger/v4"

	"github.com/livinglab/livinglab/protocol"
)

// ---- assembling a draft ----

// AssembleDraft builds (without storing) a draft practice from an
// initiative and its activities, evaluations and lessons. It copies only
// what a public practice carries: stakeholders contribute their distinct
// roles, never their names or contacts, and attendees are only counted.
// Free text (descriptions, notes, quotes) may still mention people: the
// anonymisation gate scrubs it when the draft is previewed and published.
func (s *Store) AssembleDraft(initiativeID string) (*Draft, error) {
	type parts struct {
		ini      *Initiative
		stages   []Stage
		personal []string
		acts     []Activity
		evas     []Evaluation
		les      []DraftLesson
		stks     []Stakeholder
	}
	p, err := labView(s, func(txn *badger.Txn) (parts, error) {
		var p parts
		var err error
		if p.ini, err = labGet[Initiative](txn, labInitiative, initiativeID); err != nil {
			return p, err
		}
		if p.stages, err = stagesIn(txn); err != nil {
			return p, err
		}
		of := func(id string) bool { return id == initiativeID }
		if p.acts, err = labList[Activity](txn, labActivity, func(v *Activity) bool { return of(v.InitiativeID) }); err != nil {
			return p, err
		}
		if p.evas, err = labList[Evaluation](txn, labEvaluation, func(v *Evaluation) bool { return of(v.InitiativeID) }); err != nil {
			return p, err
		}
		if p.les, err = labList[DraftLesson](txn, labLesson, func(v *DraftLesson) bool { return of(v.InitiativeID) }); err != nil {
			return p, err
		}
		if p.stks, err = labList[Stakeholder](txn, labStakeholder, nil); err != nil {
			return p, err
		}
		names, contacts, err := personalIn(txn)
		p.personal = append(names, contacts...)
		return p, err
	})
	if err != nil {
		return nil, err
	}
	ini := p.ini
	Activities.sort(p.acts)
	Evaluations.sort(p.evas)
	Lessons.sort(p.les)
	Stakeholders.sort(p.stks)

	stageName := func(n int) string {
		for _, st := range p.stages {
			if st.Number == n {
				return st.Name
			}
		}
		return ""
	}

	f := PracticeFields{Title: ini.Title, Problem: ini.Description, Language: ini.Language, Stage: ini.Stage,
		Period: period(ini.Started, ini.Ended), StakeholderRoles: []string{}, Lessons: []string{}, Links: []string{}}

	// Summary: the service and how far the initiative has come.
	var sum strings.Builder
	if ini.Service != "" {
		fmt.Fprintf(&sum, "A living-lab initiative co-producing the service %q with its community.", ini.Service)
	} else {
		sum.WriteString("A living-lab initiative co-producing a public service with its community.")
	}
	if name := stageName(ini.Stage); name != "" {
		fmt.Fprintf(&sum, " It has reached stage %d of %d (%s)", ini.Stage, len(p.stages), name)
	} else {
		fmt.Fprintf(&sum, " It has reached stage %d of %d", ini.Stage, len(p.stages))
	}
	fmt.Fprintf(&sum, " and is %s.", ini.Status)
	f.Summary = sum.String()

	// Approach: stage by stage, the activities and what was noted.
	byStage := map[int][]Activity{}
	var stageNums []int
	for _, a := range p.acts {
		if _, ok := byStage[a.Stage]; !ok {
			stageNums = append(stageNums, a.Stage)
		}
		byStage[a.Stage] = append(byStage[a.Stage], a)
	}
	sort.Ints(stageNums)
	var paras []string
	for _, n := range stageNums {
		var b strings.Builder
		if name := stageName(n); name != "" {
			fmt.Fprintf(&b, "Stage %d (%s):", n, name)
		} else {
			fmt.Fprintf(&b, "Stage %d:", n)
		}
		for _, a := range byStage[n] {
			b.WriteString(" ")
			b.WriteString(describeActivity(a))
		}
		paras = append(paras, b.String())
	}
	f.Approach = strings.Join(paras, "\n\n")

	// Stakeholder roles: distinct roles, never names. A role that contains
	// a personal name or contact of any lab entity is left out.
	var private []string
	for _, x := range p.personal {
		if x = strings.ToLower(strings.TrimSpace(x)); x != "" {
			private = append(private, x)
		}
	}
	seenRole := map[string]bool{}
	for _, v := range p.stks {
		if !slices.Contains(v.InitiativeIDs, initiativeID) {
			continue
		}
		role := strings.Join(strings.Fields(v.Role), " ")
		k := strings.ToLower(role)
		if role == "" || seenRole[k] || slices.ContainsFunc(private, func(x string) bool { return containsWords(k, x) }) {
			continue
		}
		seenRole[k] = true
		f.StakeholderRoles = append(f.StakeholderRoles, role)
	}
	sort.Slice(f.StakeholderRoles, func(i, j int) bool {
		return strings.ToLower(f.StakeholderRoles[i]) < strings.ToLower(f.StakeholderRoles[j])
	})
	if len(f.StakeholderRoles) > protocol.MaxListItems {
		f.StakeholderRoles = f.StakeholderRoles[:protocol.MaxListItems]
	}

	// Results: participation, then the indicators and feedback.
	var res []string
	if len(p.acts) > 0 {
		total := 0
		for _, a := range p.acts {
			total += a.Participants()
		}
		acts := plural(len(p.acts), "activity", "activities")
		if total > 0 {
			res = append(res, fmt.Sprintf("%d %s took part in %s.", total, plural1(total, "participant", "participants"), acts))
		} else {
			res = append(res, fmt.Sprintf("%s held.", capitalise(acts)))
		}
	}
	for _, e := range p.evas {
		line := e.Indicator + ": " + measure(e)
		if e.Period != "" {
			line += " (" + e.Period + ")"
		}
		res = append(res, line)
		for _, q := range e.Quotes {
			res = append(res, "Feedback: “"+q+"”")
		}
	}
	f.Results = strings.Join(res, "\n")

	for _, l := range p.les {
		if len(f.Lessons) < protocol.MaxListItems {
			f.Lessons = append(f.Lessons, strings.TrimSpace(l.Insight))
		}
	}

	f.Title = truncate(f.Title, protocol.MaxTitle)
	f.Summary = truncate(f.Summary, protocol.MaxShortText)
	f.Problem = truncate(f.Problem, protocol.MaxLongText)
	f.Approach = truncate(f.Approach, protocol.MaxLongText)
	f.Results = truncate(f.Results, protocol.MaxLongText)
	return &Draft{InitiativeID: ini.ID, PracticeFields: f, Topics: slices.Clone(ini.Topics),
		Confirmed: []string{}, Redact: []string{}}, nil
}

// containsWords tells whether needle occurs in s as whole words (not
// inside a longer word).
func containsWords(s, needle string) bool {
	isWord := func(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }
	for off := 0; off <= len(s); {
		i := strings.Index(s[off:], needle)
		if i < 0 {
			return false
		}
		start, end := off+i, off+i+len(needle)
		before, _ := utf8.DecodeLastRuneInString(s[:start])
		after, _ := utf8.DecodeRuneInString(s[end:])
		if (start == 0 || !isWord(before)) && (end == len(s) || !isWord(after)) {
			return true
		}
		_, size := utf8.DecodeRuneInString(s[start:])
		off = start + size
	}
	return false
}

func describeActivity(a Activity) string {
	var b strings.Builder
	b.WriteString(capitalise(a.Kind))
	if a.Title != "" {
		fmt.Fprintf(&b, " “%s”", a.Title)
	}
	if a.Place != "" {
		fmt.Fprintf(&b, " in %s", a.Place)
	}
	if notes := strings.Join(strings.Fields(a.Notes), " "); notes != "" {
		b.WriteString(": ")
		b.WriteString(notes)
		if !strings.HasSuffix(notes, ".") && !strings.HasSuffix(notes, "!") && !strings.HasSuffix(notes, "?") {
			b.WriteString(".")
		}
	} else {
		b.WriteString(".")
	}
	return b.String()
}

func measure(e Evaluation) string {
	num := func(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }
	unit := ""
	if e.Unit != "" {
		unit = " " + e.Unit
	}
	switch {
	case e.Before != nil && e.After != nil:
		return num(*e.Before) + " → " + num(*e.After) + unit
	case e.After != nil:
		return num(*e.After) + unit
	case e.Before != nil:
		return num(*e.Before) + unit + " before; not measured after yet"
	default:
		return "not measured yet"
	}
}

func period(start, end string) string {
	switch {
	case start != "" && end != "":
		return start + " – " + end
	case start != "":
		return "since " + start
	case end != "":
		return "until " + end
	}
	return ""
}

func plural(n int, one, many string) string { return strconv.Itoa(n) + " " + plural1(n, one, many) }

func plural1(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

func capitalise(s string) string {
	if s == "" {
		return s
	}
	r, size := utf8.DecodeRuneInString(s)
	return strings.ToUpper(string(r)) + s[size:]
}

// truncate cuts s to at most max bytes on a rune boundary, marking the cut.
func truncate(s string, max int) string {
	if len(s) <= max {
		return s
	}
	const mark = "…"
	cut := max - len(mark)
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + mark
}

// PublicHash is the hex SHA-256 of a practice's deterministic CBOR
// encoding followed by that of its topics: what an Approval names.
func PublicHash(p protocol.Practice, topics []string) (string, error) {
	h := sha256.New()
	for _, v := range []any{p, topics} {
		b, err := protocol.Marshal(v)
		if err != nil {
			return "", err
		}
		h.Write(b)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// ApproveDraft stores a reviewer's decisions on uncertain names (nil keeps
// the stored ones) and their approval, provided the draft is still at
// revision rev; otherwise it returns ErrConflict.
func (s *Store) ApproveDraft(id string, rev int, confirmed, redact []string, a Approval) (*Draft, error) {
	return Drafts.change(s, id, func(d *Draft) error {
		if d.Rev != rev {
			return fmt.Errorf("%w: draft %s was edited since the preview (revision %d, previewed %d)", ErrConflict, id, d.Rev, rev)
		}
		if confirmed != nil {
			d.Confirmed = TrimList(confirmed)
		}
		if redact != nil {
			d.Redact = TrimList(redact)
		}
		if a.At.IsZero() {
			a.At = time.Now().UTC()
		}
		if err := checkText("approval by", a.By, MaxLabName, false); err != nil {
			return err
		}
		d.Approval = &a
		return nil
	})
}

// MarkDraftPublished records the CID a draft was published as and consumes
// its approval.
func (s *Store) MarkDraftPublished(id, c string) (*Draft, error) {
	return Drafts.change(s, id, func(d *Draft) error {
		d.Published, d.Approval, d.Updated = c, nil, time.Now().UTC()
		return nil
	})
}

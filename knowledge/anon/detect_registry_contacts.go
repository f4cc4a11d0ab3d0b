// SPDX-License-Identifier: EUPL-1.2

package anon

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/nyaruka/phonenumbers"
)

// The registry's contact details (e-mail addresses, phone numbers, street
// addresses of stakeholders) found in any spelling.

// contactPattern is a registered contact detail in normalised form.
type contactPattern struct {
	norm string
	typ  string
	repl string
}

// normalizeContact folds s and drops spaces, dashes, dots, brackets and
// slashes, so "+358 40-765 4321" and "+358407654321" compare equal.
func normalizeContact(s string) string {
	var b strings.Builder
	for _, r := range foldSameLen(s) {
		if skipInContact(r) {
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

func skipInContact(r rune) bool {
	return unicode.IsSpace(r) || r == '-' || r == '.' || r == '(' || r == ')' || r == '/' || r == ',' ||
		r == '\u00a0' || r == '\u2010' || r == '\u2011' || r == '\u2013'
}

func buildContacts(contacts []string, public func(string) bool) []contactPattern {
	var out []contactPattern
	seen := make(map[string]bool)
	addPat := func(norm, typ, repl string) {
		if len(norm) < 5 || seen[norm] {
			return
		}
		seen[norm] = true
		out = append(out, contactPattern{norm: norm, typ: typ, repl: repl})
	}
	for _, c := range contacts {
		c = strings.TrimSpace(c)
		if c == "" {
			continue
		}
		if strings.Contains(c, "@") {
			addPat(normalizeContact(c), TypeEmail, "[email]")
			continue
		}
		if phoneVariants(c, addPat) {
			continue
		}
		// a postal address: each line or comma-separated part that is not
		// just public words
		for _, part := range strings.FieldsFunc(c, func(r rune) bool { return r == ',' || r == ';' || r == '\n' }) {
			part = strings.TrimSpace(part)
			allPublic := true
			for _, f := range strings.Fields(foldSameLen(part)) {
				if !public(strings.Trim(f, ".")) {
					allPublic = false
					break
				}
			}
			if allPublic {
				continue
			}
			addPat(normalizeContact(part), TypeAddress, "[address]")
		}
	}
	return out
}

// phoneVariants adds the international and national forms of a phone number.
func phoneVariants(c string, add func(norm, typ, repl string)) bool {
	d := digitsOnly(c)
	if len(d) < 7 || len(d) > 15 {
		return false
	}
	letters := 0
	for _, r := range c {
		if unicode.IsLetter(r) {
			letters++
		}
	}
	if letters > 0 {
		return false
	}
	regions := []string{"FI", "SE", "NO", "DK", "IS", "IE", "GB"}
	for _, region := range regions {
		num, err := phonenumbers.Parse(c, region)
		if err != nil || !phonenumbers.IsPossibleNumber(num) {
			continue
		}
		e164 := phonenumbers.Format(num, phonenumbers.E164)
		add(e164, TypePhone, "[phone]")
		add("00"+e164[1:], TypePhone, "[phone]")
		add(normalizeContact(phonenumbers.Format(num, phonenumbers.NATIONAL)), TypePhone, "[phone]")
		if strings.HasPrefix(strings.TrimSpace(c), "+") || strings.HasPrefix(d, "00") {
			break
		}
	}
	add(normalizeContact(c), TypePhone, "[phone]")
	return true
}

// findContacts redacts registered contact details wherever they appear,
// compared after normalising spaces, dashes and dots.
func (sc *scan) findContacts() {
	pats := sc.g.contacts
	if len(pats) == 0 {
		return
	}
	norm := make([]byte, 0, len(sc.lower))
	pos := make([]int, 0, len(sc.lower))
	for i := 0; i < len(sc.lower); {
		r, n := utf8.DecodeRuneInString(sc.lower[i:])
		if !skipInContact(r) {
			for k := 0; k < n; k++ {
				norm = append(norm, sc.lower[i+k])
				pos = append(pos, i+k)
			}
		}
		i += n
	}
	ns := string(norm)
	byPrefix := sc.g.contactIndex
	first := &sc.g.contactFirst
	for j := 0; j+contactPrefix <= len(ns); j++ {
		if !first[ns[j]] {
			continue
		}
		for _, pi := range byPrefix[ns[j:j+contactPrefix]] {
			p := pats[pi]
			if !strings.HasPrefix(ns[j:], p.norm) {
				continue
			}
			s, e := pos[j], pos[j+len(p.norm)-1]+1
			if !boundaryBefore(sc.text, s) && !(p.norm[0] == '+') || !boundaryAfter(sc.text, e) {
				continue
			}
			sc.add(p.typ, s, e, p.repl, "registry-contact")
		}
	}
}

// contactPrefix is the length of the prefix that contact patterns are
// indexed by; every pattern is at least this long.
const contactPrefix = 4

func indexContacts(pats []contactPattern) map[string][]int {
	m := make(map[string][]int, len(pats))
	for i, p := range pats {
		m[p.norm[:contactPrefix]] = append(m[p.norm[:contactPrefix]], i)
	}
	return m
}

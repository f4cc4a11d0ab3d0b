// SPDX-License-Identifier: EUPL-1.2

package anon

import (
	"net/netip"
	"net/url"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"
)

// urlSpan is a URL in the text. Public URLs are kept; a URL that carries a
// personal token, or contains any other personal value, is redacted whole.
type urlSpan struct {
	start, end int
	personal   bool
}

var urlPrefixes = []string{"https://", "http://", "ftp://", "www.", "mailto:"}

func (sc *scan) findURLs() {
	var starts []int
	for _, p := range urlPrefixes {
		for off := 0; ; {
			j := strings.Index(sc.lower[off:], p)
			if j < 0 {
				break
			}
			s := off + j
			off = s + len(p)
			if boundaryBefore(sc.text, s) {
				starts = append(starts, s)
			}
		}
	}
	if len(starts) == 0 {
		return
	}
	sort.Ints(starts)
	end := -1
	for _, s := range starts {
		if s < end {
			continue // "www." inside "https://www."
		}
		e := urlEnd(sc.text, s)
		u := sc.text[s:e]
		if len(u) <= len("www.") || !strings.ContainsAny(u[4:], ".:") {
			continue
		}
		sc.urls = append(sc.urls, urlSpan{start: s, end: e, personal: urlIsPersonal(sc.lower[s:e])})
		end = e
	}
}

// urlEnd finds where a URL starting at s ends, trimming trailing punctuation
// and unbalanced closing brackets.
func urlEnd(text string, s int) int {
	e := s
	for e < len(text) {
		r, size := utf8.DecodeRuneInString(text[e:])
		if unicode.IsSpace(r) || r == '<' || r == '>' || r == '"' || r == '`' || r == '|' || r == '\\' ||
			r == '{' || r == '}' || r == '\u201d' || r == '\u201c' || r == '\u00bb' {
			break
		}
		e += size
	}
	for e > s {
		c := text[e-1]
		switch c {
		case '.', ',', ';', ':', '!', '?', '\'', '*':
			e--
			continue
		case ')':
			if strings.Count(text[s:e], "(") < strings.Count(text[s:e], ")") {
				e--
				continue
			}
		case ']':
			if strings.Count(text[s:e], "[") < strings.Count(text[s:e], "]") {
				e--
				continue
			}
		}
		break
	}
	return e
}

// personalURLKeys are query or fragment parameters that carry personal data or
// credentials.
var personalURLKeys = map[string]bool{
	"token": true, "access_token": true, "id_token": true, "refresh_token": true, "auth": true,
	"key": true, "apikey": true, "api_key": true, "email": true, "e-mail": true, "mail": true,
	"user": true, "username": true, "userid": true, "user_id": true, "uid": true, "id": true,
	"session": true, "sessionid": true, "session_id": true, "sid": true, "sig": true,
	"signature": true, "password": true, "pass": true, "pwd": true, "code": true, "phone": true,
	"tel": true, "mobile": true, "name": true, "firstname": true, "lastname": true, "surname": true,
	"fname": true, "lname": true, "ssn": true, "hetu": true, "personnummer": true, "login": true,
	"ticket": true, "secret": true, "otp": true, "jwt": true, "invite": true, "nonce": true,
	"address": true, "customer": true, "member": true, "account": true, "client_id": true,
	"person": true, "pid": true, "cpr": true, "kennitala": true, "ppsn": true, "nino": true,
}

// personalURLKeyParts mark a parameter as personal when its name contains them.
var personalURLKeyParts = []string{"token", "session", "email", "passw", "secret", "user", "auth"}

// personalPathSegments are path segments followed by a per-person value.
var personalPathSegments = map[string]bool{
	"u": true, "user": true, "users": true, "profile": true, "profiles": true, "people": true,
	"person": true, "member": true, "members": true, "unsubscribe": true, "reset": true,
	"invite": true, "invitation": true, "token": true, "verify": true, "confirm": true,
	"session": true, "login": true, "auth": true, "account": true, "accounts": true,
}

// urlIsPersonal reports whether a folded URL carries a personal token.
func urlIsPersonal(u string) bool {
	if strings.HasPrefix(u, "mailto:") {
		return true
	}
	rest := u
	if i := strings.Index(rest, "://"); i >= 0 {
		rest = rest[i+3:]
	}
	if strings.Contains(rest, "@") || strings.Contains(rest, "%40") {
		return true
	}
	path, query, fragment := rest, "", ""
	if i := strings.IndexByte(path, '#'); i >= 0 {
		path, fragment = path[:i], path[i+1:]
	}
	if i := strings.IndexByte(path, '?'); i >= 0 {
		path, query = path[:i], path[i+1:]
	}
	for _, q := range []string{query, fragment} {
		for _, kv := range strings.FieldsFunc(q, func(r rune) bool { return r == '&' || r == ';' }) {
			k, _, _ := strings.Cut(kv, "=")
			if dk, err := url.QueryUnescape(k); err == nil {
				k = dk
			}
			if personalURLKeys[k] {
				return true
			}
			for _, part := range personalURLKeyParts {
				if strings.Contains(k, part) {
					return true
				}
			}
		}
	}
	segs := strings.Split(path, "/")
	for i, seg := range segs {
		if i == 0 {
			continue // host
		}
		if strings.HasPrefix(seg, "~") || strings.HasPrefix(seg, "%7e") {
			return true
		}
		if personalPathSegments[seg] && i+1 < len(segs) && segs[i+1] != "" {
			return true
		}
	}
	return false
}

// resolveURLs redacts personal URLs whole, promotes a URL that contains a
// strong personal value, and drops weak findings (numbers that merely look
// like phone numbers, counts, capitalised path words) inside public URLs.
func (sc *scan) resolveURLs() {
	if len(sc.urls) == 0 {
		return
	}
	for ui := range sc.urls {
		u := &sc.urls[ui]
		if u.personal {
			continue
		}
		for _, f := range sc.found {
			if f.Start >= u.start && f.End <= u.end {
				switch f.Type {
				case TypeEmail, TypeNationalID, TypeIBAN, TypeIP:
					u.personal = true
				case TypePerson:
					if strings.HasPrefix(f.Detector, "registry") || f.Detector == "confirmed-personal" {
						u.personal = true
					}
				}
			}
		}
	}
	kept := sc.found[:0]
	for _, f := range sc.found {
		drop := false
		for _, u := range sc.urls {
			if !u.personal && f.Start >= u.start && f.End <= u.end {
				drop = true
				break
			}
		}
		if !drop {
			kept = append(kept, f)
		}
	}
	sc.found = kept
	for _, u := range sc.urls {
		if u.personal {
			sc.add(TypeURL, u.start, u.end, "[url]", "url-personal")
		}
	}
}

func isEmailLocalRune(r rune) bool {
	return r < utf8.RuneSelf && (isASCIIAlnum(byte(r)) || strings.ContainsRune("._%+-'", r)) ||
		r >= utf8.RuneSelf && unicode.IsLetter(r)
}

func isDomainRune(r rune) bool {
	return r < utf8.RuneSelf && (isASCIIAlnum(byte(r)) || r == '-' || r == '.') ||
		r >= utf8.RuneSelf && (unicode.IsLetter(r) || unicode.IsDigit(r))
}

func (sc *scan) findEmails() {
	t := sc.text
	for off := 0; off < len(t); {
		j := strings.IndexByte(t[off:], '@')
		if j < 0 {
			break
		}
		at := off + j
		off = at + 1
		s := runStart(t, at, isEmailLocalRune)
		for s < at && (t[s] == '.' || t[s] == '\'') {
			s++
		}
		if s == at {
			continue
		}
		e := scanDomain(t, at+1)
		if e < 0 {
			continue
		}
		if roleMailbox(t[s:at]) {
			// a role or office mailbox ("registrator@", "kirjaamo@"): public
			off = e
			continue
		}
		sc.add(TypeEmail, s, e, sc.g.words.email, "email")
		off = e
	}
	sc.findObfuscatedEmails()
}

// scanDomain returns the end of a domain name with at least one dot starting
// at s, or -1.
func scanDomain(t string, s int) int {
	e := s
	for e < len(t) {
		r, size := utf8.DecodeRuneInString(t[e:])
		if !isDomainRune(r) {
			break
		}
		e += size
	}
	for e > s && (t[e-1] == '.' || t[e-1] == '-') {
		e--
	}
	dom := t[s:e]
	dot := strings.LastIndexByte(dom, '.')
	if dot <= 0 || len(dom)-dot-1 < 2 {
		return -1
	}
	for _, r := range dom[dot+1:] {
		if !unicode.IsLetter(r) {
			return -1
		}
	}
	return e
}

var atMarkers = []string{"(at)", "[at]", "{at}", "(a)"}
var dotMarkers = []string{"(dot)", "[dot]", "{dot}", "(piste)", "(punkt)"}

// findObfuscatedEmails finds "name (at) example (dot) org" style addresses.
func (sc *scan) findObfuscatedEmails() {
	l := sc.lower
	for _, m := range atMarkers {
		for off := 0; ; {
			j := strings.Index(l[off:], m)
			if j < 0 {
				break
			}
			at := off + j
			off = at + len(m)
			s := skipSpacesBack(l, at)
			ls := runStart(l, s, isEmailLocalRune)
			if ls == s {
				continue
			}
			// domain: labels separated by '.' or a dot marker
			e := skipSpaces(l, at+len(m))
			labels := 0
			end := -1
			for {
				ls2 := e
				for e < len(l) {
					r, size := utf8.DecodeRuneInString(l[e:])
					if !(r < utf8.RuneSelf && (isASCIIAlnum(byte(r)) || r == '-') || r >= utf8.RuneSelf && unicode.IsLetter(r)) {
						break
					}
					e += size
				}
				if e == ls2 {
					break
				}
				labels++
				if labels >= 2 {
					end = e
				}
				if e < len(l) && l[e] == '.' && e+1 < len(l) && isAlnumRune(runeAt(l, e+1)) {
					e++
					continue
				}
				k := skipSpaces(l, e)
				matched := false
				for _, dm := range dotMarkers {
					if strings.HasPrefix(l[k:], dm) {
						e = skipSpaces(l, k+len(dm))
						matched = true
						break
					}
				}
				if !matched {
					break
				}
			}
			if end > 0 {
				sc.add(TypeEmail, ls, end, sc.g.words.email, "email-obfuscated")
			}
		}
	}
}

// ipv4Context are words before a dotted number that make it a section or
// version number rather than an address.
var ipv4Context = []string{"version", "ver.", "v.", "section", "kohta", "luku", "chapter", "kapitel", "avsnitt", "§", "release", "build"}

func (sc *scan) findIPs() {
	t := sc.text
	// IPv4, optionally with /prefix or :port
	for i := 0; i < len(t); i++ {
		if !isDigit(t[i]) || (i > 0 && (isASCIIAlnum(t[i-1]) || t[i-1] == '.')) {
			continue
		}
		e := i
		ok := true
		for part := 0; part < 4; part++ {
			d := digitRun(t, e)
			if d == e || d-e > 3 {
				ok = false
				break
			}
			e = d
			if part < 3 {
				if e >= len(t) || t[e] != '.' {
					ok = false
					break
				}
				e++
			}
		}
		if !ok {
			i = digitRun(t, i)
			continue
		}
		if e < len(t) && (isDigit(t[e]) || isASCIILetter(t[e]) || (t[e] == '.' && e+1 < len(t) && isDigit(t[e+1]))) {
			i = e
			continue
		}
		addr, err := netip.ParseAddr(t[i:e])
		if err != nil || !addr.Is4() || precededBy(sc.lower, i, 12, ipv4Context) {
			i = e
			continue
		}
		if e+1 < len(t) && (t[e] == '/' || t[e] == ':') && isDigit(t[e+1]) {
			d := digitRun(t, e+1)
			if d-e-1 <= 5 {
				e = d
			}
		}
		sc.add(TypeIP, i, e, "[ip]", "ipv4")
		i = e
	}
	// IPv6
	for i := 0; i < len(t); {
		c := t[i]
		if !(isHexDigit(c) || c == ':') {
			i++
			continue
		}
		if i > 0 && isASCIIAlnum(t[i-1]) {
			// inside a word: skip to its end
			for i < len(t) && (isASCIIAlnum(t[i]) || t[i] == ':' || t[i] == '.') {
				i++
			}
			continue
		}
		e := i
		colons, hex := 0, 0
		for e < len(t) && (isHexDigit(t[e]) || t[e] == ':' || t[e] == '.') {
			if t[e] == ':' {
				colons++
			} else if t[e] != '.' {
				hex++
			}
			e++
		}
		end := e
		for end > i && (t[end-1] == '.' || (t[end-1] == ':' && !(end-2 >= i && t[end-2] == ':'))) {
			end--
		}
		if colons >= 2 && hex >= 3 && (e >= len(t) || !isASCIIAlnum(t[e])) {
			zoneEnd := end
			if zoneEnd < len(t) && t[zoneEnd] == '%' {
				z := zoneEnd + 1
				for z < len(t) && isASCIIAlnum(t[z]) {
					z++
				}
				zoneEnd = z
			}
			if addr, err := netip.ParseAddr(t[i:zoneEnd]); err == nil && addr.Is6() {
				if zoneEnd+1 < len(t) && t[zoneEnd] == '/' && isDigit(t[zoneEnd+1]) {
					zoneEnd = digitRun(t, zoneEnd+1)
				}
				sc.add(TypeIP, i, zoneEnd, "[ip]", "ipv6")
				i = zoneEnd
				continue
			}
		}
		if e == i {
			e++
		}
		i = e
	}
}

func isHexDigit(c byte) bool {
	return isDigit(c) || (c|0x20) >= 'a' && (c|0x20) <= 'f'
}

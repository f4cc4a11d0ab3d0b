// SPDX-License-Identifier: EUPL-1.2

package anon

import (
	"fmt"
	"github.com/livinglab/livinglab/knowledge/anon/anontest"
	"math/rand"
	"strings"
	"testing"

	"github.com/nyaruka/phonenumbers"
)

// planted is a personal value put into a text on purpose, with the sentence
// that carries it.
type planted struct {
	kind     string
	value    string // what must not survive
	sentence string
}

type canary struct {
	r        *rand.Rand
	ids      ids
	seen     map[string]bool
	items    []planted
	registry Registry
}

func (c *canary) plant(kind, value, sentence string) {
	if c.seen[value] {
		return
	}
	c.seen[value] = true
	c.items = append(c.items, planted{kind: kind, value: value, sentence: sentence})
}

func (c *canary) pick(list []string) string { return list[c.r.Intn(len(list))] }

// validPhone draws numbers from a pattern until libphonenumber accepts one.
func (c *canary) validPhone(pattern, region string, args func() []any) string {
	for {
		s := fmt.Sprintf(pattern, args()...)
		num, err := phonenumbers.Parse(s, region)
		if err == nil && phonenumbers.IsValidNumber(num) {
			return s
		}
	}
}

func (c *canary) surname() string {
	syl := []string{"ka", "ta", "va", "ro", "mi", "la", "ne", "su", "pe", "ko", "ri", "ha", "jo", "ve", "lu", "sa", "to", "mä", "ky", "ti"}
	end := []string{"nen", "la", "lä", "sson", "sen", "by", "mark", "ström", "gan", "vik"}
	s := c.pick(syl) + c.pick(syl) + c.pick(syl) + c.pick(end)
	return strings.ToUpper(s[:1]) + s[1:]
}

func buildCanary(seed int64) *canary {
	r := rand.New(rand.NewSource(seed))
	c := &canary{r: r, ids: ids{anontest.IDs{R: r}}, seen: make(map[string]bool)}
	n := func(k int) int { return r.Intn(k) }
	idSentences := []string{"Her number is %s.", "(id %s)", "The form listed %s as the applicant.", "Reference person: %s."}
	for i := 0; i < 12; i++ {
		v := c.ids.FIHetu()
		c.plant("fi-hetu", v, fmt.Sprintf(c.pick(idSentences), v))
	}
	for i := 0; i < 14; i++ {
		v := c.ids.SEPersonnummer(i%4 == 0, false)
		if i%3 == 0 {
			v = "19" + v // twelve-digit form; all generated years are 19xx or 20xx
			if v[2] < '3' {
				v = "20" + v[2:]
			}
		}
		c.plant("se-pnr", v, fmt.Sprintf(c.pick(idSentences), v))
	}
	for _, p := range []struct {
		kind, sentence string
		n              int
		gen            func(i int) string
	}{
		{"no-fnr", "Fødselsnummer %s ble oppgitt.", 10, func(i int) string { return c.ids.NOFodselsnummer(i%5 == 0) }},
		{"is-kt", "Kennitala %s.", 8, func(int) string { return c.ids.ISKennitala() }},
		{"dk-cpr", "Borgeren (%s) deltog.", 8, func(int) string { return c.ids.DKCPR() }},
		{"ie-ppsn", "PPSN %s was on the form.", 8, func(int) string { return c.ids.iePPSN() }},
		{"uk-nino", "NI number %s was given.", 8, func(int) string { return c.ids.UKNINO() }},
	} {
		for i := 0; i < p.n; i++ {
			v := p.gen(i)
			c.plant(p.kind, v, fmt.Sprintf(p.sentence, v))
		}
	}
	for _, cc := range []string{"FI", "FI", "SE", "SE", "NO", "DK", "IS", "IE", "IE", "GB", "GB", "DE", "NL", "EE"} {
		v := c.ids.IBAN(cc, true)
		if n(2) == 0 {
			v = strings.ReplaceAll(v, " ", "")
		}
		c.plant("iban", v, fmt.Sprintf("Payments went to %s last year.", v))
	}
	for _, p := range [][2]any{{"4", 16}, {"4", 16}, {"51", 16}, {"55", 16}, {"2221", 16}, {"34", 15}, {"37", 15}, {"6011", 16}} {
		v := c.ids.Card(p[0].(string), p[1].(int))
		if n(2) == 0 {
			v = strings.ReplaceAll(v, " ", "-")
		}
		c.plant("card", v, fmt.Sprintf("The card %s was charged.", v))
	}
	phoneSentences := []string{"Call %s tomorrow.", "puh. %s", "ring %s på kvällen.", "Contact number: %s."}
	d := func(k int) func() []any { return func() []any { return []any{n(k)} } }
	phones := []struct {
		pattern, region string
		args            func() []any
	}{
		{"+358 40 %07d", "FI", d(10000000)},
		{"+358 50 %03d %04d", "FI", func() []any { return []any{n(1000), n(10000)} }},
		{"040 %03d %04d", "FI", func() []any { return []any{n(1000), n(10000)} }},
		{"050-%07d", "FI", d(10000000)},
		{"070-%03d %02d %02d", "SE", func() []any { return []any{n(1000), n(100), n(100)} }},
		{"+46 70 %03d %02d %02d", "SE", func() []any { return []any{n(1000), n(100), n(100)} }},
		{"+47 9%02d %02d %03d", "NO", func() []any { return []any{n(100), n(100), n(1000)} }},
		{"4%02d %02d %03d", "NO", func() []any { return []any{n(100), n(100), n(1000)} }},
		{"+45 2%d %02d %02d %02d", "DK", func() []any { return []any{n(10), n(100), n(100), n(100)} }},
		{"+354 6%02d %04d", "IS", func() []any { return []any{n(100), n(10000)} }},
		{"08%d %03d %04d", "IE", func() []any { return []any{3 + n(7), n(1000), n(10000)} }},
		{"+353 8%d %03d %04d", "IE", func() []any { return []any{3 + n(7), n(1000), n(10000)} }},
		{"+44 7%03d %06d", "GB", func() []any { return []any{400 + n(600), n(1000000)} }},
		{"020 7946 %04d", "GB", d(10000)},
	}
	for i := 0; i < 42; i++ {
		p := phones[i%len(phones)]
		v := c.validPhone(p.pattern, p.region, p.args)
		c.plant("phone", v, fmt.Sprintf(c.pick(phoneSentences), v))
	}
	domains := []string{"pielinen.example.fi", "kommun.example.se", "vestland.example.no", "borgarbyggd.example.is", "donegal.example.ie", "council.example.co.uk"}
	for i := 0; i < 24; i++ {
		local := strings.ToLower(c.pick([]string{"aino", "sven", "kari", "jon", "siobhan", "mette"}) + "." + c.surname())
		if i%4 == 0 {
			local += fmt.Sprint(n(100))
		}
		v := local + "@" + c.pick(domains)
		c.plant("email", v, fmt.Sprintf("Write to %s for the slides.", v))
	}
	for i := 0; i < 8; i++ {
		v := fmt.Sprintf("%d.%d.%d.%d", 11+n(200), n(256), n(256), 1+n(254))
		c.plant("ip", v, fmt.Sprintf("The tablet at %s stopped responding.", v))
	}
	for i := 0; i < 4; i++ {
		v := fmt.Sprintf("2001:db8:%x:%x::%x", n(65536), n(65536), 1+n(65535))
		c.plant("ip", v, fmt.Sprintf("Logged from %s overnight.", v))
	}
	for i := 0; i < 8; i++ {
		token := fmt.Sprintf("%016x", r.Uint64())
		url := fmt.Sprintf("https://portal.example.fi/%s?%s=%s", c.pick([]string{"reset", "login", "consent"}), c.pick([]string{"token", "session", "key", "uid"}), token)
		c.plant("url-token", token, fmt.Sprintf("The link %s was sent by text message.", url))
	}
	streets := []struct{ format string }{
		{"Koulukatu %d B %d"}, {"Rantatie %d A %d"}, {"Mäntykuja %d"}, {"Storgatan %d lgh 1%03d"}, {"Skolvägen %d"},
		{"Kirkeveien %d"}, {"Strandvegen %d"}, {"Vestergade %d, %d. tv."}, {"Borgarbraut %d"}, {"%d Main Street"},
		{"%d Upper Church Road"}, {"Apt %d, %d Harbour View"}, {"Aleksanterinkatu %d as. %d"}, {"Nørregade %d"},
		{"Kongens gate %d"}, {"Hafnarstræti %d"}, {"Sjögatan %d"},
	}
	for i := 0; i < 24; i++ {
		s := streets[i%len(streets)].format
		var v string
		switch strings.Count(s, "%d") {
		case 1:
			v = fmt.Sprintf(s, 1+n(150))
		default:
			v = fmt.Sprintf(s, 1+n(150), 1+n(9))
		}
		c.plant("address", v, fmt.Sprintf("Meetings were at %s in the evening.", v))
	}
	postcodes := []string{"80100 Joensuu", "81700 Lieksa", "852 31 Sundsvall", "871 40 Härnösand", "5003 Bergen", "6800 Førde",
		"8000 Aarhus C", "310 Borgarnes", "SW1A 2AA", "BT1 5GS", "F92 X2Y3", "A65 F4E2", "F93 K7W2"}
	for _, v := range postcodes {
		c.plant("postcode", v, fmt.Sprintf("Post goes to %s.", v))
	}
	given := []string{"Aino", "Eeva", "Kristiina", "Sven", "Lars", "Karin", "Kari", "Ingrid", "Guðrún", "Siobhán", "Niamh", "Pádraig", "Mette", "Søren", "James", "Fiona"}
	nameSentences := []string{"%s joined the workshop.", "The notes from %s were useful.", "We thank %s for the photographs.", "Transport was arranged by %s and the village association."}
	for i := 0; i < 24; i++ {
		v := c.pick(given) + " " + c.surname()
		c.plant("uncertain-name", v, fmt.Sprintf(c.pick(nameSentences), v))
	}
	for i := 0; i < 16; i++ {
		first, last := c.pick(given), c.surname()
		full := first + " " + last
		c.registry.Names = append(c.registry.Names, full)
		c.plant("registry-name", full, fmt.Sprintf(c.pick(nameSentences), full))
		// the surname alone, inflected, in lower case
		var form string
		switch {
		case strings.HasSuffix(last, "nen"):
			form = strings.TrimSuffix(last, "nen") + "sen"
		case strings.HasSuffix(last, "la") || strings.HasSuffix(last, "lä"):
			form = last + "n"
		default:
			form = last + "s"
		}
		c.plant("registry-inflected", form, fmt.Sprintf("Later %s idea was tested.", form))
		c.plant("registry-lower", strings.ToLower(last), fmt.Sprintf("a note by %s about the bus.", strings.ToLower(last)))
	}
	// registered contacts written differently in the text
	for i := 0; i < 6; i++ {
		v := c.validPhone("+358 44 %03d %04d", "FI", func() []any { return []any{n(1000), n(10000)} })
		c.registry.Contacts = append(c.registry.Contacts, v)
		national := "044" + strings.ReplaceAll(v[len("+358 44"):], " ", "")
		c.plant("registry-contact", national, fmt.Sprintf("Her other number %s was on the list.", national))
	}
	return c
}

func (c *canary) text() string {
	order := c.r.Perm(len(c.items))
	filler := []string{"The pilot continued through the winter.", "Volunteers and nurses co-designed the service with residents.",
		"The evaluation found fewer night visits.", "Taxi drivers joined the training in March."}
	var b strings.Builder
	for k, i := range order {
		b.WriteString(c.items[i].sentence)
		b.WriteString(" ")
		if k%5 == 4 {
			b.WriteString(c.pick(filler))
			b.WriteString("\n")
		}
	}
	return b.String()
}

func TestCanary(t *testing.T) {
	for _, seed := range []int64{1, 2, 3} {
		c := buildCanary(seed)
		if len(c.items) < 200 {
			t.Fatalf("only %d planted values", len(c.items))
		}
		text := c.text()
		g := New(Options{FailClosed: true, Registry: c.registry})
		out, fs, _ := g.Scrub("approach", text)
		checkFindings(t, text, out, fs)
		lowOut, normOut := strings.ToLower(out), normalized(out)
		leaked := 0
		for _, p := range c.items {
			if strings.Contains(lowOut, strings.ToLower(p.value)) || strings.Contains(normOut, normalized(p.value)) {
				leaked++
				t.Errorf("seed %d: %s %q survives in %q", seed, p.kind, p.value, sentenceOf(out, p))
			}
		}
		if seed == 1 {
			t.Logf("%d planted values, %d leaked, %d findings", len(c.items), leaked, len(fs))
		}
	}
}

// sentenceOf finds the output sentence that came from p, for error messages.
func sentenceOf(out string, p planted) string {
	words := strings.Fields(p.sentence)
	if len(words) == 0 {
		return ""
	}
	i := strings.Index(out, words[0])
	if i < 0 {
		return p.sentence
	}
	end := i + 120
	if end > len(out) {
		end = len(out)
	}
	return out[i:end]
}

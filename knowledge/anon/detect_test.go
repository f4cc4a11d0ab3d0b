// SPDX-License-Identifier: EUPL-1.2

package anon

import (
	"strings"
	"testing"
)

// detCase is one detector test: every value in redact must be covered by a
// finding of type typ and be gone from the output; every value in keep must
// come through unchanged and untouched by any finding.
type detCase struct {
	name   string
	in     string
	typ    string
	redact []string
	keep   []string
}

func runDetCases(t *testing.T, g *Gate, cases []detCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			out, fs, _ := g.Scrub("text", tc.in)
			for _, v := range tc.redact {
				i := strings.Index(tc.in, v)
				if i < 0 {
					t.Fatalf("bad test: %q not in input", v)
				}
				covered := false
				for _, f := range fs {
					if f.Start <= i && f.End >= i+len(v) {
						covered = true
						if tc.typ != "" && f.Type != tc.typ {
							t.Errorf("%q found as %s (%s), want %s", v, f.Type, f.Detector, tc.typ)
						}
					}
				}
				if !covered {
					t.Errorf("%q not redacted; findings %v; output %q", v, describe(tc.in, fs), out)
				}
				if strings.Contains(out, v) {
					t.Errorf("%q survives in %q", v, out)
				}
			}
			for _, v := range tc.keep {
				i := strings.Index(tc.in, v)
				if i < 0 {
					t.Fatalf("bad test: %q not in input", v)
				}
				for _, f := range fs {
					if f.Start < i+len(v) && f.End > i {
						t.Errorf("%q should be kept but %s (%s) redacted %q", v, f.Type, f.Detector, tc.in[f.Start:f.End])
					}
				}
				if !strings.Contains(out, v) {
					t.Errorf("%q missing from %q", v, out)
				}
			}
		})
	}
}

// scrubCase is a text and what the gate must make of it.
type scrubCase struct{ in, want string }

// checkScrubs runs each case through g and reports the findings of those
// that come out otherwise.
func checkScrubs(t *testing.T, g *Gate, tests []scrubCase) {
	t.Helper()
	for _, tt := range tests {
		out, fs, _ := g.Scrub("x", tt.in)
		if out != tt.want {
			t.Errorf("Scrub(%q) = %q, want %q (%v)", tt.in, out, tt.want, describe(tt.in, fs))
		}
	}
}

func describe(text string, fs []Finding) []string {
	var out []string
	for _, f := range fs {
		out = append(out, f.Type+":"+f.Detector+":"+text[f.Start:f.End])
	}
	return out
}

// Each detector on texts that hold what it looks for and texts that only
// look alike, on one gate.
func TestDetectors(t *testing.T) {
	g := New(Options{})
	for _, kind := range []struct {
		name  string
		cases []detCase
	}{
		{"Emails", []detCase{
			{name: "plain", in: "Write to aino.mattila@pielinen.example.fi today.", typ: TypeEmail, redact: []string{"aino.mattila@pielinen.example.fi"}, keep: []string{"today."}},
			{name: "plus and trailing dot", in: "Mail sven.berg+lab@kommun.example.se.", typ: TypeEmail, redact: []string{"sven.berg+lab@kommun.example.se"}},
			{name: "unicode local part", in: "Kontakt: jóna.jónsdóttir@borgarbyggd.example.is", typ: TypeEmail, redact: []string{"jóna.jónsdóttir@borgarbyggd.example.is"}},
			{name: "obfuscated", in: "contact maire (at) donegal (dot) ie for the slides", typ: TypeEmail, redact: []string{"maire (at) donegal (dot) ie"}, keep: []string{"for the slides"}},
			{name: "not an address", in: "the @home service and user@localhost", keep: []string{"the @home service", "user@localhost"}},
		}},
		{"URLs", []detCase{
			{name: "token", in: "Reset at https://portal.example.fi/reset?token=8f14e45fceea167a now", typ: TypeURL, redact: []string{"https://portal.example.fi/reset?token=8f14e45fceea167a"}, keep: []string{"now"}},
			{name: "mailto", in: "(mailto:aino@example.fi)", typ: TypeURL, redact: []string{"mailto:aino@example.fi"}},
			{name: "user path", in: "See https://example.org/users/aino.mattila/profile.", typ: TypeURL, redact: []string{"https://example.org/users/aino.mattila/profile"}},
			{name: "id param", in: "Form: https://example.org/form?id=123&lang=fi", typ: TypeURL, redact: []string{"https://example.org/form?id=123&lang=fi"}},
			{name: "email in path", in: "https://example.org/cv/aino@example.fi/cv.pdf", typ: TypeURL, redact: []string{"https://example.org/cv/aino@example.fi/cv.pdf"}},
			{name: "public report", in: "The report is at https://example.org/report.", keep: []string{"https://example.org/report"}},
			{name: "public with query", in: "Materials: https://www.example.eu/livinglab/materials?lang=en", keep: []string{"https://www.example.eu/livinglab/materials?lang=en"}},
			{name: "public with numbers", in: "Annual figures https://example.org/reports/2021/0401234567/annual-report-2021.pdf", keep: []string{"https://example.org/reports/2021/0401234567/annual-report-2021.pdf"}},
			{name: "public capitalised path", in: "https://example.org/Karelia/Mattila/Joensuu", keep: []string{"https://example.org/Karelia/Mattila/Joensuu"}},
			{name: "www", in: "visit www.example.fi/night-care, thanks", keep: []string{"www.example.fi/night-care"}},
		}},
		{"Phones", []detCase{
			{name: "fi international", in: "Call +358 40 765 4321 today", typ: TypePhone, redact: []string{"+358 40 765 4321"}, keep: []string{"today"}},
			{name: "fi national", in: "puh. 040 765 4321", typ: TypePhone, redact: []string{"040 765 4321"}},
			{name: "fi national dashed", in: "call 040-7654321.", typ: TypePhone, redact: []string{"040-7654321"}},
			{name: "fi 00 prefix", in: "from abroad 00358 40 765 4321", typ: TypePhone, redact: []string{"00358 40 765 4321"}},
			{name: "se national", in: "ring 070-123 45 67 eller", typ: TypePhone, redact: []string{"070-123 45 67"}},
			{name: "se international", in: "tel +46 70 123 45 67", typ: TypePhone, redact: []string{"+46 70 123 45 67"}},
			{name: "no international", in: "ring +47 912 34 567", typ: TypePhone, redact: []string{"+47 912 34 567"}},
			{name: "no national", in: "mobil 912 34 567", typ: TypePhone, redact: []string{"912 34 567"}},
			{name: "is international", in: "sími +354 555 1234", typ: TypePhone, redact: []string{"+354 555 1234"}},
			{name: "dk international", in: "tlf. +45 20 12 34 56", typ: TypePhone, redact: []string{"+45 20 12 34 56"}},
			{name: "dk national", in: "ring 20 12 34 56 i dag", typ: TypePhone, redact: []string{"20 12 34 56"}},
			{name: "ie national", in: "phone 087 123 4567", typ: TypePhone, redact: []string{"087 123 4567"}},
			{name: "ie international", in: "+353 87 123 4567", typ: TypePhone, redact: []string{"+353 87 123 4567"}},
			{name: "uk mobile", in: "mobile 07700 900123", typ: TypePhone, redact: []string{"07700 900123"}},
			{name: "uk london", in: "office +44 20 7946 0958 or 020 7946 0958", typ: TypePhone, redact: []string{"+44 20 7946 0958", "020 7946 0958"}},
			{name: "uk with (0)", in: "office +44 (0)20 7946 0958", typ: TypePhone, redact: []string{"+44 (0)20 7946 0958"}},
			{name: "year", in: "In 2019 the pilot began.", keep: []string{"2019"}},
			{name: "dates", in: "From 12.03.2021 to 2021-06-30 and 1.4.2022.", keep: []string{"12.03.2021", "2021-06-30", "1.4.2022"}},
			{name: "year range", in: "during 2019-2021 and 2019 2020 2021", keep: []string{"2019-2021", "2019 2020 2021"}},
			{name: "times", in: "open 10.00-12.00 daily", keep: []string{"10.00-12.00"}},
			{name: "percent", in: "a rise of 12 345 678% is absurd", keep: []string{"12 345 678%"}},
			{name: "money", in: "The budget was 1 200 000 EUR and € 20 450 000.", keep: []string{"1 200 000 EUR", "20 450 000"}},
			{name: "invoice", in: "invoice INV-2021-000123 and ref 40765432", keep: []string{"INV-2021-000123", "40765432"}},
			{name: "statistics", in: "a population of 1 234 567 people", keep: []string{"1 234 567"}},
			{name: "count", in: "42 participants", keep: []string{"42 participants"}},
			{name: "isbn", in: "ISBN 978-951-1-12345-6", keep: []string{"978-951-1-12345-6"}},
			{name: "plain number", in: "case number 20192020 was closed", keep: []string{"20192020"}},
		}},
		{"Finance", []detCase{
			{name: "iban spaced", in: "Grants went to FI21 1234 5600 0007 85.", typ: TypeIBAN, redact: []string{"FI21 1234 5600 0007 85"}},
			{name: "iban compact", in: "IBAN FI2112345600000785, BIC NDEAFIHH", typ: TypeIBAN, redact: []string{"FI2112345600000785"}, keep: []string{"NDEAFIHH"}},
			{name: "iban gb", in: "account GB29 NWBK 6016 1331 9268 19", typ: TypeIBAN, redact: []string{"GB29 NWBK 6016 1331 9268 19"}},
			{name: "iban no", in: "konto NO93 8601 1117 947", typ: TypeIBAN, redact: []string{"NO93 8601 1117 947"}},
			{name: "iban lower case", in: "iban fi21 1234 5600 0007 85", typ: TypeIBAN, redact: []string{"fi21 1234 5600 0007 85"}},
			{name: "iban bad check", in: "FI21 1234 5600 0007 86 is not an IBAN", keep: []string{"FI21 1234 5600 0007 86"}},
			{name: "visa", in: "card 4111 1111 1111 1111 expired", typ: TypeCard, redact: []string{"4111 1111 1111 1111"}},
			{name: "mastercard dashes", in: "card 5500-0000-0000-0004.", typ: TypeCard, redact: []string{"5500-0000-0000-0004"}},
			{name: "amex", in: "amex 378282246310005", typ: TypeCard, redact: []string{"378282246310005"}},
			{name: "luhn fails", in: "number 4111 1111 1111 1112 here", keep: []string{"4111 1111 1111 1112"}},
			{name: "no issuer", in: "serial 1234 5678 9012 3452 here", keep: []string{"1234 5678 9012 3452"}},
		}},
		{"IPs", []detCase{
			{name: "v4", in: "logged from 192.168.10.45.", typ: TypeIP, redact: []string{"192.168.10.45"}},
			{name: "v4 cidr", in: "net 10.0.0.1/24", typ: TypeIP, redact: []string{"10.0.0.1/24"}},
			{name: "v4 port", in: "server 203.0.113.7:8080 down", typ: TypeIP, redact: []string{"203.0.113.7:8080"}},
			{name: "v6", in: "from 2001:db8::8a2e:370:7334 today", typ: TypeIP, redact: []string{"2001:db8::8a2e:370:7334"}},
			{name: "v6 zone", in: "link fe80::1ff:fe23:4567:890a%eth0 up", typ: TypeIP, redact: []string{"fe80::1ff:fe23:4567:890a%eth0"}},
			{name: "version", in: "version 1.2.3.4 and section 3.1.2.1", keep: []string{"1.2.3.4", "3.1.2.1"}},
			{name: "not ip", in: "999.1.1.1 and 10:30:00 and 12.03.2021", keep: []string{"999.1.1.1", "10:30:00", "12.03.2021"}},
			{name: "words with colons", in: "Note: dead:beef is not an address", keep: []string{"dead:beef"}},
		}},
		{"NationalIDs", []detCase{
			{name: "fi hetu", in: "hetu 131052-308T.", typ: TypeNationalID, redact: []string{"131052-308T"}},
			{name: "fi hetu 2000s", in: "(010101A123N)", typ: TypeNationalID, redact: []string{"010101A123N"}},
			{name: "fi bad check", in: "code 131052-308U here", keep: []string{"131052-308U"}},
			{name: "se personnummer", in: "pnr 811218-9876,", typ: TypeNationalID, redact: []string{"811218-9876"}},
			{name: "se twelve digits", in: "19811218-9876", typ: TypeNationalID, redact: []string{"19811218-9876"}},
			{name: "se plus", in: "811218+9876", typ: TypeNationalID, redact: []string{"811218+9876"}},
			{name: "se compact", in: "id 8112189876 ok", typ: TypeNationalID, redact: []string{"8112189876"}},
			{name: "se luhn fails", in: "ref 811218-9875 ok", keep: []string{"811218-9875"}},
			{name: "no fodselsnummer", in: "fnr 15057512315", typ: TypeNationalID, redact: []string{"15057512315"}},
			{name: "no spaced", in: "fnr 150575 12315", typ: TypeNationalID, redact: []string{"150575 12315"}},
			{name: "no d-number", in: "d-nr 55057512309", typ: TypeNationalID, redact: []string{"55057512309"}},
			{name: "no bad check", in: "nr 15057512316", keep: []string{"15057512316"}},
			{name: "is kennitala", in: "kt. 120174-3399", typ: TypeNationalID, redact: []string{"120174-3399"}},
			{name: "dk cpr dash", in: "CPR 070761-4285", typ: TypeNationalID, redact: []string{"070761-4285"}},
			{name: "dk cpr context", in: "cpr-nr. 0707614286", typ: TypeNationalID, redact: []string{"0707614286"}},
			{name: "dk bad date", in: "ref 320761-4285", keep: []string{"320761-4285"}},
			{name: "ie ppsn", in: "PPSN 1234567T", typ: TypeNationalID, redact: []string{"1234567T"}},
			{name: "ie ppsn two letters", in: "PPS 1234567TW.", typ: TypeNationalID, redact: []string{"1234567TW"}},
			{name: "ie wrong letter", in: "code 1234567A", keep: []string{"1234567A"}},
			{name: "uk nino spaced", in: "NI number AB 12 34 56 C.", typ: TypeNationalID, redact: []string{"AB 12 34 56 C"}},
			{name: "uk nino compact", in: "NINO JG103759A", typ: TypeNationalID, redact: []string{"JG103759A"}},
			{name: "uk QQ example", in: "e.g. QQ 12 34 56 C", keep: []string{"QQ 12 34 56 C"}},
			{name: "invoice", in: "INV-2021-000123", keep: []string{"INV-2021-000123"}},
		}},
		{"Addresses", []detCase{
			{name: "fi staircase flat", in: "Meetings were at Koulukatu 5 B 12, 80100 Joensuu.", typ: TypeAddress, redact: []string{"Koulukatu 5 B 12"}},
			{name: "fi as", in: "Joensuuntie 12 as. 5", typ: TypeAddress, redact: []string{"Joensuuntie 12 as. 5"}},
			{name: "fi kuja", in: "osoite Mäntykuja 3 A", typ: TypeAddress, redact: []string{"Mäntykuja 3 A"}},
			{name: "se lgh", in: "bor på Storgatan 14 lgh 1102 i Sundsvall", typ: TypeAddress, redact: []string{"Storgatan 14 lgh 1102"}, keep: []string{"Sundsvall"}},
			{name: "se vagen", in: "Skolvägen 7", typ: TypeAddress, redact: []string{"Skolvägen 7"}},
			{name: "no veien", in: "på Kirkeveien 22 i Bergen", typ: TypeAddress, redact: []string{"Kirkeveien 22"}, keep: []string{"Bergen"}},
			{name: "no separate gate", in: "møtet på Kongens gate 5", typ: TypeAddress, redact: []string{"Kongens gate 5"}},
			{name: "dk floor", in: "Vestergade 3, 2. tv., 8000 Aarhus C", typ: TypeAddress, redact: []string{"Vestergade 3, 2. tv."}},
			{name: "is braut", in: "Borgarbraut 14, 310 Borgarnes", typ: TypeAddress, redact: []string{"Borgarbraut 14"}},
			{name: "en street", in: "lives at 12 Main Street, Letterkenny", typ: TypeAddress, redact: []string{"12 Main Street"}, keep: []string{"Letterkenny"}},
			{name: "en apt", in: "Apt 4B, 12 Main Street", typ: TypeAddress, redact: []string{"Apt 4B, 12 Main Street"}},
			{name: "en long street", in: "at 15 Upper O'Connell St. in Dublin", typ: TypeAddress, redact: []string{"15 Upper O'Connell St."}},
			{name: "flat", in: "moved to Flat 3 last year", typ: TypeAddress, redact: []string{"Flat 3"}},
			{name: "road act", in: "Section 5 of the Road Traffic Act", keep: []string{"Section 5 of the Road Traffic Act"}},
			{name: "street without number", in: "Koulukatu was closed and Main Street too", keep: []string{"Koulukatu was closed", "Main Street"}},
			{name: "year then street", in: "in 2019 Main Street was rebuilt", keep: []string{"2019 Main Street"}},
			{name: "flat percent", in: "Flat 3% growth", keep: []string{"Flat 3%"}},
			{name: "english verb", in: "Investigate 3 options and Delegate 2 tasks", keep: []string{"Investigate 3 options", "Delegate 2 tasks"}},
			{name: "numbered heading", in: "Section 5 Road Safety and Stage 2 Park Management", keep: []string{"Section 5 Road Safety", "Stage 2 Park Management"}},
			{name: "gate as a word", in: "the Departure gate 5 was closed", keep: []string{"Departure gate 5"}},
		}},
		{"Postcodes", []detCase{
			{name: "fi", in: "Koulukatu 5 B 12, 80100 Joensuu.", typ: TypePostcode, redact: []string{"80100 Joensuu"}},
			{name: "se spaced", in: "adress 852 30 Sundsvall", typ: TypePostcode, redact: []string{"852 30 Sundsvall"}},
			{name: "se prefixed", in: "SE-852 30 Sundsvall", typ: TypePostcode, redact: []string{"SE-852 30 Sundsvall"}},
			{name: "no", in: "postboks, 5003 Bergen", typ: TypePostcode, redact: []string{"5003 Bergen"}},
			{name: "dk district", in: "8000 Aarhus C", typ: TypePostcode, redact: []string{"8000 Aarhus C"}},
			{name: "is", in: "Borgarbraut 14, 310 Borgarnes", typ: TypePostcode, redact: []string{"310 Borgarnes"}},
			{name: "uk", in: "London SW1A 1AA.", typ: TypePostcode, redact: []string{"SW1A 1AA"}},
			{name: "uk short", in: "Manchester M1 1AE", typ: TypePostcode, redact: []string{"M1 1AE"}},
			{name: "eircode", in: "Eircode A65 F4E2", typ: TypePostcode, redact: []string{"A65 F4E2"}},
			{name: "eircode letterkenny", in: "Letterkenny, F92 X2Y3", typ: TypePostcode, redact: []string{"F92 X2Y3"}},
			{name: "year then town", in: "In 2019 Joensuu joined the network.", keep: []string{"2019 Joensuu"}},
			{name: "numbers then nouns", in: "150 Volunteers and 12000 Euros, 2500 Participants", keep: []string{"150 Volunteers", "12000 Euros", "2500 Participants"}},
			{name: "roads", in: "the M25 and the N56 road", keep: []string{"M25", "N56"}},
		}},
	} {
		t.Run(kind.name, func(t *testing.T) { runDetCases(t, g, kind.cases) })
	}
}

func TestCounts(t *testing.T) {
	g := New(Options{})
	tests := []scrubCase{
		{"3 residents tested it", "fewer than 5 residents tested it"},
		{"only 2 osallistujaa", "only fewer than 5 osallistujaa"},
		{"3 deltagare och 4 deltakere", "fewer than 5 deltagare och fewer than 5 deltakere"},
		{"Three residents said", "Fewer than 5 residents said"},
		{"with two volunteers", "with fewer than 5 volunteers"},
		{"3 older residents", "fewer than 5 older residents"},
		{"3 of the residents", "fewer than 5 of the residents"},
		{"42 participants attended", "42 participants attended"},
		{"5 residents", "5 residents"},
		{"15% of residents", "15% of residents"},
		{"3 km from the residents", "3 km from the residents"},
		{"Letters went to residents", "Letters went to residents"},
		{"On 3 March residents met", "On 3 March residents met"},
		{"1 203 participants", "1 203 participants"},
		{"in 2019 participants", "in 2019 participants"},
		{"to deltakere møtte", "fewer than 5 deltakere møtte"},
	}
	checkScrubs(t, g, tests)
	g10 := New(Options{K: 10})
	if got, _, _ := g10.Scrub("x", "7 residents"); got != "fewer than 10 residents" {
		t.Errorf("K=10: %q", got)
	}
}

func TestAges(t *testing.T) {
	g := New(Options{})
	tests := []scrubCase{
		{"residents aged 91 in the village", "residents aged 90-99 in the village"},
		{"a 91-year-old woman", "a 90-99-year-old woman"},
		{"she is 91 years old", "she is 90-99 years old"},
		{"91-vuotias asukas", "90-99-vuotias asukas"},
		{"91-vuotiaan asukkaan", "90-99-vuotiaan asukkaan"},
		{"hon är 91 år", "hon är 90-99 år"},
		{"en 84-årig kvinna", "en 80-89-årig kvinna"},
		{"age: 7", "age: 0-9"},
		{"aged 103", "aged 100+"},
		{"people aged 65 and over", "people aged 65 and over"},
		{"people aged 18-25", "people aged 18-25"},
		{"over 75 years old", "over 75 years old"},
		{"the project ran 3 år", "the project ran 3 år"},
	}
	checkScrubs(t, g, tests)
}

func TestAgeBand(t *testing.T) {
	for age, want := range map[int]string{0: "0-9", 7: "0-9", 10: "10-19", 45: "40-49", 91: "90-99", 99: "90-99", 100: "100+", 117: "100+", -1: "unknown"} {
		if got := AgeBand(age); got != want {
			t.Errorf("AgeBand(%d) = %q, want %q", age, got, want)
		}
	}
}

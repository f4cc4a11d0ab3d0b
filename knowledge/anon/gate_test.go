// SPDX-License-Identifier: EUPL-1.2

package anon

import (
	"os"
	"reflect"
	"sort"
	"strings"
	"testing"
)

const acceptanceText = "Aino Mattila (131052-308T, aino.mattila@pielinen.example.fi, +358 40 765 4321) led the night-care pilot with Sven Berg (811218-9876, 070-123 45 67). Grants went to FI21 1234 5600 0007 85. Meetings were at Koulukatu 5 B 12, 80100 Joensuu. 3 residents aged 91 in the village tested the cameras; 42 participants attended the workshops."

// normalized drops spaces, dashes and dots and lower-cases, the way someone
// comparing a leaked value would.
func normalized(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		switch r {
		case ' ', '-', '.', '\u00a0', '\t', '\n', '(', ')', '/':
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

func TestAcceptance(t *testing.T) {
	g := New(Options{FailClosed: true})
	out, fs, cands := g.Scrub("summary", acceptanceText)
	t.Logf("output: %s", out)
	for _, v := range []string{"Aino Mattila", "Sven Berg", "131052-308T", "811218-9876", "aino.mattila@pielinen.example.fi",
		"+358 40 765 4321", "070-123 45 67", "FI21 1234 5600 0007 85", "Koulukatu 5 B 12"} {
		if strings.Contains(out, v) {
			t.Errorf("%q survives", v)
		}
		if strings.Contains(normalized(out), normalized(v)) {
			t.Errorf("%q survives in normalised form", v)
		}
	}
	if !strings.Contains(out, "42 participants") {
		t.Error("42 participants should be kept")
	}
	if strings.Contains(out, "3 residents aged 91") {
		t.Error("small count and exact age should be suppressed")
	}
	if !strings.Contains(out, "fewer than 5 residents aged 90-99") {
		t.Errorf("want small count and age band in %q", out)
	}
	if len(cands) != 0 {
		t.Errorf("fail-closed gate left candidates: %v", cands)
	}
	checkFindings(t, acceptanceText, out, fs)
	want := map[string]string{
		"Aino Mattila": TypePerson, "131052-308T": TypeNationalID, "aino.mattila@pielinen.example.fi": TypeEmail,
		"+358 40 765 4321": TypePhone, "Sven Berg": TypePerson, "811218-9876": TypeNationalID,
		"070-123 45 67": TypePhone, "FI21 1234 5600 0007 85": TypeIBAN, "Koulukatu 5 B 12": TypeAddress,
		"80100 Joensuu": TypePostcode, "3": TypeCount, "91": TypeAge,
	}
	got := make(map[string]string)
	for _, f := range fs {
		got[acceptanceText[f.Start:f.End]] = f.Type
		if f.Field != "summary" {
			t.Errorf("field %q", f.Field)
		}
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("findings\n got %v\nwant %v", got, want)
	}
}

// checkFindings verifies offsets are in bounds, sorted and disjoint, and that
// applying them to the input gives the output.
func checkFindings(t *testing.T, in, out string, fs []Finding) {
	t.Helper()
	prev := 0
	for _, f := range fs {
		if f.Start < prev || f.End <= f.Start || f.End > len(in) {
			t.Fatalf("bad finding offsets %+v (prev end %d, len %d)", f, prev, len(in))
		}
		prev = f.End
	}
	if got := apply(in, fs); got != out {
		t.Fatalf("findings do not rebuild the output:\n%q\n%q", got, out)
	}
}

func TestAcceptanceWithoutFailClosed(t *testing.T) {
	g := New(Options{})
	out, fs, cands := g.Scrub("summary", acceptanceText)
	checkFindings(t, acceptanceText, out, fs)
	var texts []string
	for _, c := range cands {
		texts = append(texts, c.Text)
		if acceptanceText[c.Start:c.End] != c.Text {
			t.Errorf("candidate offsets %d-%d do not give %q", c.Start, c.End, c.Text)
		}
	}
	sort.Strings(texts)
	if want := []string{"Aino Mattila", "Sven Berg"}; !reflect.DeepEqual(texts, want) {
		t.Errorf("candidates %v, want %v", texts, want)
	}
	// names are left for the reviewer, everything else is gone
	if !strings.Contains(out, "Aino Mattila") || strings.Contains(out, "131052-308T") {
		t.Errorf("output %q", out)
	}
}

// ordinaryText must come through a fail-closed gate unchanged.
var ordinaryText = []string{
	"Volunteers and nurses co-designed the service with residents.",
	"Meetings were held in the village hall every second week.",
	"The municipality and the wellbeing services county agreed to continue the pilot.",
	"Results and evidence: most residents felt safer at night.",
	"North Karelia, Västernorrland, Vestland, Borgarbyggð and Donegal took part.",
	"Residents in Joensuu, Sundsvall, Bergen, Letterkenny and Borgarnes were interviewed.",
	"In 2019 the council started a demand-responsive transport trial with the local taxi company.",
	"The evaluation is available at https://example.org/report and in the Interreg Europe database.",
	"Difficulties: weak mobile coverage, data protection and the cost of devices.",
	"Kokeilussa kotihoito ja kyläyhdistys suunnittelivat palvelun yhdessä asukkaiden kanssa.",
	"Tjänsten utvecklades tillsammans med de boende och deras anhöriga.",
	"Tjenesten ble utviklet sammen med innbyggerne og de pårørende.",
	"Tilbuddet blev udviklet sammen med borgerne og de pårørende.",
	"Flestir þátttakendur sögðust finna fyrir meira öryggi.",
	"Taking part in the workshops, older people described what a good night looks like.",
	"The budget was 1 200 000 EUR over 2019-2021, with 42 participants and 15% savings.",
	"Staff from the NHS, the HSE and the EU programme joined on Monday, 12 March 2021.",
}

func TestNoOverRedaction(t *testing.T) {
	g := New(Options{FailClosed: true})
	for _, s := range ordinaryText {
		out, fs, _ := g.Scrub("x", s)
		if out != s {
			t.Errorf("changed:\n in  %q\n out %q\n %v", s, out, describe(s, fs))
		}
	}
}

func TestPracticeTextHasNoCandidates(t *testing.T) {
	for _, name := range []string{"testdata/practice.txt", "testdata/practice_nordic.txt"} {
		b, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		g := New(Options{})
		_, fs, cands := g.Scrub("x", string(b))
		if len(fs) != 0 || len(cands) != 0 {
			t.Errorf("%s: findings %v candidates %v", name, describe(string(b), fs), cands)
		}
	}
}

func TestCandidates(t *testing.T) {
	g := New(Options{})
	tests := []struct {
		in     string
		want   []string
		reason string
	}{
		{"The pilot was led by Aino Mattila and the night team.", []string{"Aino Mattila"}, ""},
		{"Sven Berg joined later.", []string{"Sven Berg"}, ""},
		{"We thank Dr Hope for the advice.", []string{"Hope"}, "follows a title"},
		{"Siobhán Ní Bhriain ran the Gaeltacht workshop.", []string{"Siobhán Ní Bhriain"}, ""},
		{"Will Murphy drove the bus.", []string{"Will Murphy"}, ""},
		{"Meetings were held. Volunteers and nurses helped.", nil, ""},
		{"SUMMARY OF RESULTS", nil, ""},
	}
	for _, tt := range tests {
		_, _, cands := g.Scrub("x", tt.in)
		var got []string
		for _, c := range cands {
			got = append(got, c.Text)
			if tt.reason != "" && c.Reason != tt.reason {
				t.Errorf("%q: reason %q, want %q", tt.in, c.Reason, tt.reason)
			}
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%q: candidates %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestConfirmedRedactAndVocabulary(t *testing.T) {
	in := "Pielinen Karelia hosted it; Koli Lodge and Aino Mattila helped."
	g := New(Options{
		Confirmed:  []string{"Pielinen Karelia"},
		Vocabulary: []string{"Koli", "Lodge"},
		Redact:     []string{"Aino Mattila"},
	})
	out, fs, cands := g.Scrub("x", in)
	if out != "Pielinen Karelia hosted it; Koli Lodge and [person] helped." {
		t.Errorf("out %q findings %v", out, describe(in, fs))
	}
	if len(cands) != 0 {
		t.Errorf("candidates %v", cands)
	}
	for _, f := range fs {
		if f.Detector != "confirmed-personal" {
			t.Errorf("detector %q", f.Detector)
		}
	}
	// confirmed phrases stay even when the gate fails closed
	g = New(Options{FailClosed: true, Confirmed: []string{"Pielinen Karelia", "Koli Lodge"}})
	out, _, _ = g.Scrub("x", in)
	if !strings.Contains(out, "Pielinen Karelia") || !strings.Contains(out, "Koli Lodge") || strings.Contains(out, "Mattila") {
		t.Errorf("fail closed with confirmations: %q", out)
	}
}

func TestRegistryNames(t *testing.T) {
	g := New(Options{Registry: Registry{Names: []string{
		"Aino Mattila", "Sven Andersson", "Seán Murphy", "Pekka Virtanen", "Guðrún Jónsdóttir",
		"Ole Berg", "Pielisen Kyläyhdistys ry", "Máire Ní Bhriain",
	}}})
	tests := []scrubCase{
		{"Aino Mattila led it.", "[person] led it."},
		{"AINO MATTILA led it.", "[person] led it."},
		{"Kiitos Aino Mattilalle ja Mattilan perheelle.", "Kiitos [person] ja [person] perheelle."},
		{"Ainon mukaan Mattilaa kiinnosti.", "[person] mukaan [person] kiinnosti."},
		{"Mattilassa ja Mattilasta", "[person] ja [person]"},
		{"Anderssons förslag", "[person] förslag"},
		{"Murphy's idea and the Murphys' car", "[person] idea and the [person] car"},
		{"Seán's idea", "[person] idea"},
		{"Virtasen ja Virtaselle, Pekan kanssa", "[person] ja [person], [person] kanssa"},
		{"hjá Guðrúnu Jónsdóttur", "hjá [person]"},
		{"Jónsdóttir sagði", "[person] sagði"},
		{"mattila wrote it", "[person] wrote it"},
		{"the Pielisen Kyläyhdistys ry board", "the [organisation] board"},
		{"Kyläyhdistys meets weekly", "Kyläyhdistys meets weekly"},
		{"a Mháire, thank you", "a [person], thank you"},
	}
	checkScrubs(t, g, tests)
	// a registered surname that is a public word: "Berg" alone as a name inside a
	// sentence is redacted, "Bergen" (a city) is only a candidate
	out, _, cands := g.Scrub("x", "We met Berg in Bergen by the berg.")
	if out != "We met [person] in Bergen by the berg." {
		t.Errorf("berg: %q", out)
	}
	found := false
	for _, c := range cands {
		if c.Text == "Bergen" && c.Reason == "near registered name" {
			found = true
		}
	}
	if !found {
		t.Errorf("Bergen should be a near-name candidate: %v", cands)
	}
	// near misses of registered names are candidates
	_, _, cands = g.Scrub("x", "The notes mention Mattilla twice.")
	if len(cands) != 1 || cands[0].Text != "Mattilla" || cands[0].Reason != "near registered name" {
		t.Errorf("near miss: %v", cands)
	}
}

func TestRegistryContacts(t *testing.T) {
	g := New(Options{Registry: Registry{
		Names:    []string{"Aino Mattila"},
		Contacts: []string{"aino.mattila@pielinen.example.fi", "+358 40 765 4321", "Rantakatu 7, 81700 Lieksa", "Koivuniementie 2"},
	}})
	tests := []scrubCase{
		{"mail AINO.MATTILA@PIELINEN.EXAMPLE.FI", "mail [email]"},
		{"soita 0407654321", "soita [phone]"},
		{"soita 040-765 43 21", "soita [phone]"},
		{"call +358-40-7654321", "call [phone]"},
		{"at Rantakatu 7 in Lieksa", "at [address] in Lieksa"},
		{"Koivuniementie 2", "[address]"},
	}
	checkScrubs(t, g, tests)
}

func TestMergeOverlaps(t *testing.T) {
	g := New(Options{FailClosed: true})
	in := "Form https://example.org/cv?email=aino.mattila@pielinen.example.fi&tel=+358407654321 sent."
	out, fs, _ := g.Scrub("x", in)
	if out != "Form [url] sent." {
		t.Errorf("out %q %v", out, describe(in, fs))
	}
	checkFindings(t, in, out, fs)

	// the same value twice: both occurrences go, even where the context that
	// found the first is missing
	in = "CPR 0707614286 and later 0707614286 again"
	out, _, _ = g.Scrub("x", in)
	if strings.Contains(out, "0707614286") {
		t.Errorf("repeated value survives: %q", out)
	}
}

func TestEmptyAndInvalidUTF8(t *testing.T) {
	g := New(Options{FailClosed: true})
	if out, fs, cs := g.Scrub("x", ""); out != "" || fs != nil || cs != nil {
		t.Error("empty input")
	}
	out, _, _ := g.Scrub("x", "bad \xff byte, call +358 40 765 4321")
	if strings.Contains(out, "765") {
		t.Errorf("invalid UTF-8: %q", out)
	}
}

func TestScrubCounts(t *testing.T) {
	g := New(Options{})
	tests := []struct {
		name  string
		in    map[string]int
		want  map[string]string
		total string
	}{
		{"nothing small", map[string]int{"a": 12, "b": 30}, map[string]string{"a": "12", "b": "30"}, "42"},
		{"one small: secondary", map[string]int{"a": 3, "b": 12, "c": 30},
			map[string]string{"a": "fewer than 5", "b": Suppressed, "c": "30"}, Suppressed},
		{"two small: no secondary", map[string]int{"a": 3, "b": 2, "c": 30},
			map[string]string{"a": "fewer than 5", "b": "fewer than 5", "c": "30"}, Suppressed},
		{"tie broken by name", map[string]int{"x": 1, "b": 9, "a": 9},
			map[string]string{"x": "fewer than 5", "a": Suppressed, "b": "9"}, Suppressed},
		{"all small", map[string]int{"a": 1, "b": 2}, map[string]string{"a": "fewer than 5", "b": "fewer than 5"}, "fewer than 5"},
		{"zero is small", map[string]int{"a": 0, "b": 10, "c": 11}, map[string]string{"a": "fewer than 5", "b": Suppressed, "c": "11"}, Suppressed},
		{"single cell", map[string]int{"a": 4}, map[string]string{"a": "fewer than 5"}, "fewer than 5"},
		{"empty", map[string]int{}, map[string]string{}, "0"},
	}
	for _, tt := range tests {
		shown, total := g.ScrubCounts(tt.in)
		if !reflect.DeepEqual(shown, tt.want) || total != tt.total {
			t.Errorf("%s: got %v %q, want %v %q", tt.name, shown, total, tt.want, tt.total)
		}
	}
	// with a suppressed cell no hidden value can be worked out from the shown figures
	shown, total := g.ScrubCounts(map[string]int{"under 65": 2, "65-79": 17, "80+": 23})
	if total != Suppressed || shown["under 65"] == "2" || shown["65-79"] != Suppressed {
		t.Errorf("secondary: %v %q", shown, total)
	}
}

func TestConcurrentScrub(t *testing.T) {
	g := New(Options{FailClosed: true, Registry: Registry{Names: []string{"Aino Mattila"}, Contacts: []string{"+358 40 765 4321"}}})
	want, _, _ := g.Scrub("x", acceptanceText)
	done := make(chan string)
	for i := 0; i < 8; i++ {
		go func() {
			out, _, _ := g.Scrub("x", acceptanceText)
			done <- out
		}()
	}
	for i := 0; i < 8; i++ {
		if got := <-done; got != want {
			t.Errorf("concurrent result differs: %q", got)
		}
	}
}

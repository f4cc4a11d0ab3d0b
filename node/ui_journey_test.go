// SPDX-License-Identifier: EUPL-1.2

package node

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// The accessibility check: axe-core, installed by .ci/run with npm ci from
// node/web/testdata/axe (package.json and package-lock.json).
var axePath = filepath.Join("web", "testdata", "axe", "node_modules", "axe-core", "axe.min.js")

var axeSource = sync.OnceValues(func() (string, error) {
	b, err := os.ReadFile(axePath)
	return string(b), err
})

// axeViolation is one serious or critical finding of axe-core.
type axeViolation struct {
	ID     string   `json:"id"`
	Impact string   `json:"impact"`
	Help   string   `json:"help"`
	Nodes  []string `json:"nodes"`
}

// axeRun runs axe-core's WCAG 2.0-2.2 A and AA rules on the page and keeps
// the serious and critical violations.
const axeRun = `;axe.run(document, {runOnly: {type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]},
  resultTypes: ["violations"]}).then(r => r.violations.filter(v => v.impact === "serious" || v.impact === "critical").map(v => ({
  id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 3).map(n => n.target.join(" ") + ": " + (n.failureSummary || ""))})))`

// check runs axe-core on the tab's page and, on a narrow screen, checks
// that nothing is wider than the screen.
func (tb *tab) check(page string, narrow bool) {
	tb.t.Helper()
	src, err := axeSource()
	if err != nil {
		tb.t.Fatalf("axe-core: %v", err)
	}
	vs := value(tb, "axe on "+page, chromedp.Evaluate[[]axeViolation](src+axeRun, chromedp.EvalAwaitPromise))
	for _, v := range vs {
		tb.t.Errorf("%s: %s: axe %s (%s): %s\n  %s", tb.name, page, v.ID, v.Impact, v.Help, strings.Join(v.Nodes, "\n  "))
	}
	if narrow {
		w := value(tb, "width of "+page, chromedp.Evaluate[[]int](`[document.documentElement.scrollWidth, window.innerWidth]`))
		if len(w) == 2 && w[0] > w[1]+1 {
			tb.t.Errorf("%s: %s is %d px wide on a %d px screen", tb.name, page, w[0], w[1])
		}
	}
}

// shoot saves a screenshot of the page in dir (if set) as NAME-LANG-WIDTH.png.
func (tb *tab) shoot(dir, name, lang string, width int) {
	tb.t.Helper()
	if dir == "" {
		return
	}
	png := value(tb, "screenshot "+name, chromedp.FullScreenshot(100)) // 100: PNG
	if err := os.MkdirAll(dir, 0o755); err != nil {
		tb.t.Fatal(err)
	}
	f := filepath.Join(dir, fmt.Sprintf("%s-%s-%d.png", name, lang, width))
	if err := os.WriteFile(f, png, 0o644); err != nil {
		tb.t.Fatal(err)
	}
}

// journeyPractice is another region's practice, written in Finnish and
// translated by its author.
type journeyPractice struct {
	Topic        string            `json:"topic"`
	Title        string            `json:"title"`
	Translations map[string]string `json:"translations"` // language -> translated title
	Search       map[string]string `json:"search"`       // language -> a word of the translation to search for
}

// readJourneyPractices reads the practices of testdata/journey/practices.json.
func readJourneyPractices(t *testing.T) []journeyPractice {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "journey", "practices.json"))
	if err != nil {
		t.Fatal(err)
	}
	var ps []journeyPractice
	if err := json.Unmarshal(b, &ps); err != nil {
		t.Fatalf("testdata/journey/practices.json: %v", err)
	}
	return ps
}

// TestBrowserChampionJourney walks a local champion's journey in a real
// browser, in three interface languages, on a desktop and a phone screen:
// sign in, choose the language, follow a topic, find another region's
// practice through its translation (and its original one click away),
// write a draft, preview, approve, publish, retract. axe-core checks every
// page for serious and critical WCAG 2.2 A/AA violations; on the phone
// screen no page may be wider than the screen.
//
// LIVINGLAB_SCREENSHOTS=DIR also saves screenshots of the main pages (the
// README's come from: LIVINGLAB_SCREENSHOTS=$PWD/docs/screenshots go test
// ./node -run TestBrowserChampionJourney -count=1).
func TestBrowserChampionJourney(t *testing.T) {
	if _, err := axeSource(); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("axe-core is not installed (.ci/run installs it with npm ci in node/web/testdata/axe): %v", err)
		}
		t.Skipf("axe-core is not installed: run npm ci in node/web/testdata/axe (%v)", err)
	}
	browser := newChromium(t)
	shots := os.Getenv("LIVINGLAB_SCREENSHOTS")
	a := startUINode(t, "North Karelia", "FI", "improve")
	b := startUINode(t, "Donegal", "IE", "")
	ctx := context.Background()
	joinUINode(t, a, b)

	// North Karelia publishes in Finnish, with its own translations.
	practices := readJourneyPractices(t)
	cids := map[string]string{}
	for _, p := range practices {
		if err := a.n.Subscribe(ctx, p.Topic); err != nil {
			t.Fatal(err)
		}
		trs := map[string]any{}
		for lang, title := range p.Translations {
			trs[lang] = map[string]string{"title": title, "summary": title + "."}
		}
		var out struct {
			CID string `json:"cid"`
		}
		if code := a.apiDo("POST", "/api/v1/practices", map[string]any{"title": p.Title, "summary": "Kyläläiset suunnittelivat palvelun yhdessä kunnan kanssa.",
			"approach": "Työpajat kylätaloissa.", "topics": []string{p.Topic}, "language": "fi", "translations": trs}, &out); code >= 300 {
			t.Fatalf("publish %q = %d", p.Title, code)
		}
		cids[p.Topic] = out.CID
	}
	// Donegal's lab has an initiative to write drafts from.
	var ini struct {
		ID string `json:"id"`
	}
	if code := b.apiDo("POST", "/api/v1/lab/initiatives", map[string]any{"title": "Community telecare hubs",
		"description": "Volunteers help older people try telecare at the community centre.", "topics": []string{"elderly-care"}, "language": "en"}, &ini); code != http.StatusCreated {
		t.Fatalf("create initiative = %d", code)
	}

	journeys := []struct {
		lang, original string
		width, height  int
	}{
		{"en", "Show the original", 1280, 900},
		{"sv", "Visa originalet", 390, 844},
		{"ga", "Taispeáin an bunleagan", 1280, 900},
		{"en", "Show the original", 390, 844},
		{"sv", "Visa originalet", 1280, 900},
		{"ga", "Taispeáin an bunleagan", 390, 844},
	}
	if len(practices) < len(journeys) {
		t.Fatalf("%d practices for %d journeys", len(practices), len(journeys))
	}
	for i, j := range journeys {
		p := practices[i]
		narrow := j.width < 600
		name := fmt.Sprintf("Donegal %s %dpx", j.lang, j.width)
		tb := newTab(t, browser, b.base, name)
		tb.run("screen size", chromedp.EmulateViewport(int64(j.width), int64(j.height)))
		tb.signIn()
		if value(tb, "language", chromedp.Evaluate[string](`document.documentElement.lang`)) != j.lang {
			tb.run("choose the language",
				chromedp.SetValue(chromedp.CSS("#ui-lang"), j.lang),
				chromedp.Click(chromedp.CSS(".langswitch button"), chromedp.NodeVisible),
				chromedp.WaitVisible(chromedp.CSS(`html[lang="`+j.lang+`"] #h-new`)))
		}
		tb.check("home", narrow)
		if j.lang != "ga" {
			tb.shoot(shots, "home", j.lang, j.width)
		}

		// Follow a topic with one click on the home page.
		tb.submit(`button[value="subscribe"][aria-describedby="topic-` + p.Topic + `"]`)
		tb.run("following", chromedp.WaitVisible(chromedp.CSS(`button[value="unsubscribe"][aria-describedby="topic-`+p.Topic+`"]`)))

		// The other region's practice arrives, shown in the reader's language.
		link := `ul.practices a[href="/practices/` + cids[p.Topic] + `"]`
		deadline := time.Now().Add(45 * time.Second)
		for {
			tb.open("/practices?topic=" + p.Topic)
			n := value(tb, "look for the practice", chromedp.Nodes(chromedp.CSSAll(link), chromedp.AtLeast(0)))
			if len(n) > 0 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: the practice on %s did not arrive in 45 s", name, p.Topic)
			}
			time.Sleep(time.Second)
		}
		tb.check("practices", narrow)
		if got := tb.text(link); got != p.Translations[j.lang] {
			t.Errorf("%s: the list shows %q, want the translation %q", name, got, p.Translations[j.lang])
		}
		if got := tb.text(`li[data-cid="` + cids[p.Topic] + `"] .original`); !strings.Contains(got, p.Title) {
			t.Errorf("%s: the list does not show the original title beside the translation: %q", name, got)
		}
		tb.submit(link)
		if got := tb.text("article h1"); got != p.Translations[j.lang] {
			t.Errorf("%s: the practice page's title is %q, want %q", name, got, p.Translations[j.lang])
		}
		tb.check("practice", narrow)
		if j.lang != "ga" {
			tb.shoot(shots, "practice", j.lang, j.width)
		}
		if got := tb.text(".translation-note a"); got != j.original {
			t.Errorf("%s: the link to the original reads %q, want %q", name, got, j.original)
		}
		tb.submit(".translation-note a")
		if got := tb.text("article h1"); got != p.Title {
			t.Errorf("%s: the original's title is %q, want %q", name, got, p.Title)
		}

		// Search finds it through a word of the translation.
		tb.open("/search?q=" + p.Search[j.lang])
		tb.run("search finds the translation", chromedp.WaitVisible(chromedp.CSS(`.hits a[href="/practices/`+cids[p.Topic]+`"]`)))
		tb.check("search", narrow)
		if j.lang != "ga" {
			tb.shoot(shots, "search", j.lang, j.width)
		}

		// A draft from the lab, through the menu (a button on a phone).
		if narrow {
			tb.run("open the menu", chromedp.Click(chromedp.CSS(".menu-button"), chromedp.NodeVisible),
				chromedp.WaitVisible(chromedp.CSS(`#main-menu nav a[href="/drafts"]`)))
		}
		tb.submit(`#main-menu nav a[href="/drafts"]`)
		tb.check("drafts", narrow)
		tb.submit(`form[action="/lab/initiatives/` + ini.ID + `/draft"] button`)
		tb.run("the preview", chromedp.WaitVisible(chromedp.CSS("#preview")))
		tb.check("draft", narrow)
		if j.lang != "ga" {
			tb.shoot(shots, "draft", j.lang, j.width)
		}
		tb.submit("#approve-draft")
		tb.run("approved", chromedp.WaitVisible(chromedp.CSS("#publish-draft")))
		tb.submit("#publish-draft")
		if !strings.Contains(tb.location(), "/practices/") {
			t.Fatalf("%s: after publishing at %s", name, tb.location())
		}
		tb.check("published practice", narrow)

		// Retract it: a confirmation says what happens on the other nodes.
		tb.run("reason", chromedp.SendKeys(chromedp.CSS("#reason"), "Published for a test."))
		tb.submit("#retract")
		tb.check("confirm retraction", narrow)
		tb.submit("#confirm")
		tb.run("retracted", chromedp.WaitVisible(chromedp.CSS(`main p.notice`)))
		tb.check("retracted", narrow)

		// The remaining pages pass the checks too (once on each screen).
		if i < 2 || (shots != "" && j.lang != "ga") {
			tb.otherPages(ini.ID, j.lang, j.width, narrow, shots)
		}
		if narrow {
			tb.run("open the menu", chromedp.Click(chromedp.CSS(".menu-button"), chromedp.NodeVisible))
		}
		tb.submit(".signout button")
		tb.run("signed out", chromedp.WaitVisible(chromedp.CSS("#username")))
	}
}

// otherPages checks the pages the journey does not pass through, and the
// practice form's preview.
func (tb *tab) otherPages(iniID, lang string, width int, narrow bool, shots string) {
	tb.t.Helper()
	for _, pg := range []string{"/topics", "/feed", "/federation", "/account", "/lab", "/publish", "/lab/initiatives/" + iniID} {
		tb.open(pg)
		tb.check(pg, narrow)
	}
	// The form's preview.
	tb.open("/publish")
	tb.run("fill the form",
		chromedp.SendKeys(chromedp.CSS("#title"), "Telecare open mornings"),
		chromedp.SendKeys(chromedp.CSS("#summary"), "Older people try telecare over a cup of tea; write to mary.byrne@example.ie."),
		chromedp.Click(chromedp.CSS(`input[name="topic"][value="elderly-care"]`)))
	tb.submit("#preview-button")
	tb.run("the form's preview", chromedp.WaitVisible(chromedp.CSS("#preview mark.redaction")))
	tb.check("form preview", narrow)
	tb.shoot(shots, "publish-preview", lang, width)
}

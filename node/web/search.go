// SPDX-License-Identifier: EUPL-1.2

package web

import (
	"errors"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/livinglab/livinglab/knowledge/search"
	"github.com/livinglab/livinglab/node"
)

// The search page: the query form, hits with their snippets, facets and
// pages of results.

type uiHit struct {
	node.SearchHit
	TitleHTML template.HTML
	Snippets  []uiSnippet
	Stage     int
}

type uiSnippet struct {
	Field string
	Lang  string
	HTML  template.HTML
}

type uiFacet struct {
	Name, Label, Param string
	Values             []uiFacetValue
}

type uiFacetValue struct {
	Value, Label string
	Count        int
	Checked      bool
	ID           string
}

type uiPageLink struct {
	N       int
	URL     string
	Current bool
}

type searchData struct {
	Q        string
	Network  bool
	Sort     string
	Searched bool
	Result   *node.SearchResult
	Hits     []uiHit
	Facets   []uiFacet
	Pages    []uiPageLink
	Prev     string
	Next     string
	First    int
	Last     int
}

var facetParams = []struct{ name, param string }{
	{"topic", "topic"}, {"region", "region"}, {"country", "country"},
	{"stage", "stage"}, {"language", "lang"}, {"year", "year"},
}

func (u *webUI) searchPage(w http.ResponseWriter, r *http.Request, s *session) {
	v := r.URL.Query()
	lang := u.langOf(r)
	tr := u.translator(lang)
	q := search.Query{Text: strings.TrimSpace(v.Get("q")), Topics: formValues(v, "topic"), Regions: formValues(v, "region"),
		Countries: formValues(v, "country"), Languages: formValues(v, "lang"), Sort: v.Get("sort"), Facets: true, PageSize: 10, Reader: lang}
	if q.Sort != search.SortDate {
		q.Sort = ""
	}
	d := searchData{Q: q.Text, Network: v.Get("network") == "on", Sort: q.Sort}
	var bad []string
	for _, p := range []struct {
		name string
		dst  *[]int
	}{{"stage", &q.Stages}, {"year", &q.Years}} {
		for _, s := range formValues(v, p.name) {
			i, err := strconv.Atoi(s)
			if err != nil {
				bad = append(bad, p.name+" "+strconv.Quote(s))
				continue
			}
			*p.dst = append(*p.dst, i)
		}
	}
	if p, err := strconv.Atoi(v.Get("page")); err == nil && p > 0 {
		q.Page = min(p, search.MaxResultWindow/q.PageSize)
	}
	errMsg := ""
	if len(bad) > 0 {
		errMsg = tr.T("search.bad_filters", "Filters", strings.Join(bad, ", "))
	}
	res, err := u.n.Search(r.Context(), q, d.Network)
	status := http.StatusOK
	if err != nil {
		if errors.Is(err, node.ErrBadRequest) {
			status = http.StatusBadRequest
			errMsg = tr.T("search.bad_query", "Reason", strings.TrimPrefix(err.Error(), node.ErrBadRequest.Error()+": "))
		} else {
			status = http.StatusInternalServerError
			errMsg = tr.T("search.failed", "Reason", err.Error())
		}
		res = &node.SearchResult{Page: 1, PageSize: q.PageSize}
	}
	d.Result, d.Searched = res, true
	for _, h := range res.Hits {
		uh := uiHit{SearchHit: h, TitleHTML: template.HTML(template.HTMLEscapeString(h.Title))}
		if t := h.Snippets["title"]; len(t) > 0 && h.OriginalTitle == "" {
			uh.TitleHTML = safeSnippet(t[0])
		}
		if h.TitleLanguage == "" {
			uh.TitleLanguage = h.Language
		}
		for _, f := range []string{"summary", "lessons", "body"} {
			for _, frag := range h.Snippets[f] {
				uh.Snippets = append(uh.Snippets, uiSnippet{Field: tr.T("search.field_" + f), Lang: h.Language, HTML: safeSnippet(frag)})
			}
		}
		if len(uh.Snippets) > 3 {
			uh.Snippets = uh.Snippets[:3]
		}
		d.Hits = append(d.Hits, uh)
	}
	stageName := map[string]string{}
	for _, st := range u.stageNames() {
		stageName[strconv.Itoa(st.Number)] = strconv.Itoa(st.Number) + " " + tr.stageName(st)
	}
	for _, fp := range facetParams {
		f := uiFacet{Name: fp.name, Label: tr.T("search.facet_" + fp.name), Param: fp.param}
		selected := formValues(v, fp.param)
		seen := map[string]bool{}
		for _, fc := range res.Facets[fp.name] {
			label := fc.Value
			switch fp.name {
			case "language":
				label = tr.langName(fc.Value)
			case "topic":
				label = tr.topicLabel(fc.Value)
			case "stage":
				if n, ok := stageName[fc.Value]; ok {
					label = n
				}
			}
			seen[fc.Value] = true
			f.Values = append(f.Values, uiFacetValue{Value: fc.Value, Label: label, Count: fc.Count,
				Checked: slices.Contains(selected, fc.Value)})
		}
		for _, sv := range selected {
			if !seen[sv] {
				f.Values = append(f.Values, uiFacetValue{Value: sv, Label: sv, Checked: true})
			}
		}
		for i := range f.Values {
			f.Values[i].ID = "f-" + fp.param + "-" + strconv.Itoa(i)
		}
		if len(f.Values) > 0 {
			d.Facets = append(d.Facets, f)
		}
	}
	page := max(res.Page, 1)
	size := max(res.PageSize, 1)
	pages := int((res.Total + uint64(size) - 1) / uint64(size))
	pages = min(pages, search.MaxResultWindow/size)
	link := func(p int) string {
		c := url.Values{}
		for k, vs := range v {
			if k != "page" {
				c[k] = vs
			}
		}
		if p > 1 {
			c.Set("page", strconv.Itoa(p))
		}
		return "/search?" + c.Encode()
	}
	if pages > 1 {
		lo, hi := max(1, page-3), min(pages, page+3)
		for p := lo; p <= hi; p++ {
			d.Pages = append(d.Pages, uiPageLink{N: p, URL: link(p), Current: p == page})
		}
		if page > 1 {
			d.Prev = link(page - 1)
		}
		if page < pages {
			d.Next = link(page + 1)
		}
	}
	if len(d.Hits) > 0 {
		d.First = (page-1)*size + 1
		d.Last = d.First + len(d.Hits) - 1
	}
	u.render(w, r, status, "search", view{Title: tr.T("nav.search"), Nav: "search", Error: errMsg, Data: d})
}

// safeSnippet returns an index snippet as HTML after checking that it is
// what the index promises: escaped text in which only <mark> and </mark>
// are markup, correctly nested. Anything else is shown escaped.
func safeSnippet(s string) template.HTML {
	rest := strings.NewReplacer("<mark>", "\x00", "</mark>", "\x01").Replace(s)
	ok := !strings.ContainsAny(rest, "<>")
	open := false
	for i := 0; ok && i < len(rest); i++ {
		switch rest[i] {
		case 0:
			ok = !open
			open = true
		case 1:
			ok = open
			open = false
		}
	}
	if !ok || open {
		plain := strings.NewReplacer("<mark>", "", "</mark>", "").Replace(s)
		return template.HTML(template.HTMLEscapeString(plain))
	}
	return template.HTML(s)
}

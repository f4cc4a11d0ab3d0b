// SPDX-License-Identifier: EUPL-1.2

package node

import (
	"fmt"
	"maps"
	"net/url"
	"slices"
	"sort"
	"strings"
	"time"

	"golang.org/x/text/language"
)

// The open-data catalogue: the public practices a node holds as a DCAT-AP
// 3.0 catalogue in JSON-LD, one dcat:Dataset per practice (its CID is the
// dct:identifier), with distributions that point at the record's raw and
// JSON forms under /api/v1/records, so that a portal harvesting it can
// fetch each record and check it against its CID and signature.

// Vocabularies the catalogue uses.
const (
	euLanguage = "http://publications.europa.eu/resource/authority/language/"
	euCountry  = "http://publications.europa.eu/resource/authority/country/"
	euFileType = "http://publications.europa.eu/resource/authority/file-type/"
	ianaMedia  = "https://www.iana.org/assignments/media-types/"
	spdxURI    = "http://spdx.org/licenses/"
)

// catalogContext is the JSON-LD context of the catalogue.
var catalogContext = map[string]any{
	"dcat":   "http://www.w3.org/ns/dcat#",
	"dct":    "http://purl.org/dc/terms/",
	"foaf":   "http://xmlns.com/foaf/0.1/",
	"skos":   "http://www.w3.org/2004/02/skos/core#",
	"xsd":    "http://www.w3.org/2001/XMLSchema#",
	"rdfs":   "http://www.w3.org/2000/01/rdf-schema#",
	"adms":   "http://www.w3.org/ns/adms#",
	"dcatap": "http://data.europa.eu/r5r/",
}

// CatalogQuery selects what the catalogue describes and where it lives.
type CatalogQuery struct {
	// Base is the public URL under which this node's API and pages are
	// reached (https://data.region.example); every link starts with it.
	Base  string
	Topic string // "" for every topic
}

// LanguageURI is the EU Publications Office's language authority URI of
// an ISO 639 code ("fi" gives .../language/FIN), "" when unknown.
func LanguageURI(code string) string {
	b, err := language.ParseBase(code)
	if err != nil {
		return ""
	}
	return euLanguage + strings.ToUpper(b.ISO3())
}

// CountryURI is the EU Publications Office's country authority URI of an
// ISO 3166 alpha-2 code ("FI" gives .../country/FIN), "" when unknown.
func CountryURI(code string) string {
	r, err := language.ParseRegion(code)
	if err != nil || !r.IsCountry() {
		return ""
	}
	return euCountry + strings.ToUpper(r.ISO3())
}

// LicenceURI is the SPDX URI of a licence identifier.
func LicenceURI(id string) string {
	if id == "" {
		return ""
	}
	return spdxURI + url.PathEscape(id)
}

func ldText(s, lang string) map[string]any {
	if lang == "" {
		return map[string]any{"@value": s}
	}
	return map[string]any{"@value": s, "@language": lang}
}

func ldTime(t time.Time) map[string]any {
	return map[string]any{"@value": t.UTC().Format(time.RFC3339), "@type": "xsd:dateTime"}
}

func ldRef(id, typ string) map[string]any {
	m := map[string]any{"@id": id}
	if typ != "" {
		m["@type"] = typ
	}
	return m
}

// agent is a region as a foaf:Agent.
func agent(region, country string) map[string]any {
	name := region
	if name == "" {
		name = "Unnamed region"
	}
	a := map[string]any{"@type": "foaf:Agent", "foaf:name": ldText(name, "")}
	if u := CountryURI(country); u != "" {
		a["dct:spatial"] = ldRef(u, "dct:Location")
	}
	return a
}

// normBase checks and trims a catalogue's base URL.
func normBase(base string) (string, error) {
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return "", fmt.Errorf("%w: the catalogue's base must be an http(s) URL such as https://data.region.example, got %q", ErrBadRequest, base)
	}
	return strings.TrimRight(base, "/"), nil
}

// Catalog describes the public practices this node holds (their current
// versions) as a DCAT-AP 3.0 dcat:Catalog in JSON-LD.
func (n *Node) Catalog(q CatalogQuery) (map[string]any, error) {
	base, err := normBase(q.Base)
	if err != nil {
		return nil, err
	}
	views, err := n.Practices(PracticeQuery{Topic: q.Topic, Oldest: true})
	if err != nil {
		return nil, err
	}
	cfg := n.Config()
	datasets := []any{}
	langs := map[string]bool{}
	countries := map[string]bool{}
	var modified time.Time
	for _, v := range views {
		d := n.dataset(base, v)
		datasets = append(datasets, d)
		if u := LanguageURI(v.Language); u != "" {
			langs[u] = true
		}
		if u := CountryURI(v.Country); u != "" {
			countries[u] = true
		}
		if v.Created.After(modified) {
			modified = v.Created
		}
	}
	title := "Good practices of the living-lab federation " + cfg.Federation.Name
	if cfg.Federation.Name == "" {
		title = "Good practices of " + cfg.Region
	}
	c := map[string]any{
		"@context":        catalogContext,
		"@id":             base + "/api/v1/catalog",
		"@type":           "dcat:Catalog",
		"dct:title":       ldText(title, "en"),
		"dct:description": ldText("Signed, anonymised good practices of regional living labs, as held by the node of "+cfg.Region+". Each dataset is one practice record; its identifier is the record's content identifier (CID), and its distributions are the record's exact signed bytes and a JSON view.", "en"),
		"dct:publisher":   agent(cfg.Region, cfg.Country),
		"foaf:homepage":   ldRef(base+"/", "foaf:Document"),
		"dcat:dataset":    datasets,
	}
	if !modified.IsZero() {
		c["dct:modified"] = ldTime(modified)
	}
	if l := sortedRefs(langs, "dct:LinguisticSystem"); len(l) > 0 {
		c["dct:language"] = l
	}
	if s := sortedRefs(countries, "dct:Location"); len(s) > 0 {
		c["dct:spatial"] = s
	}
	return c, nil
}

func sortedRefs(set map[string]bool, typ string) []any {
	keys := make([]string, 0, len(set))
	for k := range set {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]any, 0, len(keys))
	for _, k := range keys {
		out = append(out, ldRef(k, typ))
	}
	return out
}

// dataset is one practice as a dcat:Dataset.
func (n *Node) dataset(base string, v *PracticeView) map[string]any {
	rec := base + "/api/v1/records/" + v.CID
	titles := []any{ldText(v.Title, v.Language)}
	descs := []any{ldText(v.Summary, v.Language)}
	for _, l := range slices.Sorted(maps.Keys(v.Translations)) {
		t := v.Translations[l]
		if t.Title != "" {
			titles = append(titles, ldText(t.Title, l))
		}
		if t.Summary != "" {
			descs = append(descs, ldText(t.Summary, l))
		}
	}
	region, country := v.Region, v.Country
	publisher := agent(region, country)
	if m, ok := n.Member(v.Author); ok && m.Region != "" {
		publisher = agent(m.Region, m.Country)
	}
	spatial := []any{}
	if u := CountryURI(country); u != "" {
		spatial = append(spatial, ldRef(u, "dct:Location"))
	}
	if region != "" {
		spatial = append(spatial, map[string]any{"@type": "dct:Location", "skos:prefLabel": ldText(region, "")})
	}
	licence := v.Licence
	dists := []any{
		distribution(rec, "application/vnd.ipld.dag-cbor", "",
			"The signed record's body: the exact DAG-CBOR bytes the identifier addresses (request it with Accept: application/vnd.ipld.dag-cbor; the author's signature comes in the X-Livinglab-Signature header).", licence),
		distribution(rec, "application/json", euFileType+"JSON", "The record as JSON.", licence),
	}
	d := map[string]any{
		"@id":               base + "/practices/" + v.CID,
		"@type":             "dcat:Dataset",
		"dct:identifier":    ldText(v.CID, ""),
		"dct:title":         titles,
		"dct:description":   descs,
		"dct:publisher":     publisher,
		"dct:issued":        ldTime(v.Created),
		"dcat:landingPage":  ldRef(base+"/practices/"+v.CID, "foaf:Document"),
		"dcat:distribution": dists,
		"dcat:version":      ldText(fmt.Sprint(v.Version), ""),
	}
	if u := LanguageURI(v.Language); u != "" {
		d["dct:language"] = ldRef(u, "dct:LinguisticSystem")
	}
	if len(spatial) > 0 {
		d["dct:spatial"] = spatial
	}
	if kw := keywords(v); len(kw) > 0 {
		d["dcat:keyword"] = kw
	}
	var sources []any
	for _, a := range v.AdaptedFrom {
		sources = append(sources, ldRef(base+"/practices/"+a.Practice, "dcat:Dataset"))
	}
	if len(sources) > 0 {
		// The practices this one adapts.
		d["dct:source"] = sources
	}
	if v.Supersedes != "" {
		d["dcat:previousVersion"] = ldRef(base+"/practices/"+v.Supersedes, "dcat:Dataset")
	}
	return d
}

func distribution(access, media, format, desc, licence string) map[string]any {
	d := map[string]any{
		"@type":           "dcat:Distribution",
		"dcat:accessURL":  ldRef(access, ""),
		"dcat:mediaType":  ldRef(ianaMedia+media, "dct:MediaType"),
		"dct:description": ldText(desc, "en"),
	}
	if format != "" {
		d["dct:format"] = ldRef(format, "dct:MediaTypeOrExtent")
	}
	if u := LicenceURI(licence); u != "" {
		d["dct:license"] = ldRef(u, "dct:LicenseDocument")
	}
	return d
}

func keywords(v *PracticeView) []any {
	out := []any{}
	for _, t := range v.Topics {
		out = append(out, ldText(t, ""))
	}
	return out
}

// SchemaOrg describes a practice in schema.org terms (JSON-LD), for the
// practice's web page at pageURL: search engines and portals read it.
func (n *Node) SchemaOrg(v *PracticeView, pageURL string) map[string]any {
	d := map[string]any{
		"@context":       "https://schema.org",
		"@type":          "CreativeWork",
		"@id":            pageURL,
		"url":            pageURL,
		"identifier":     v.CID,
		"name":           v.Title,
		"abstract":       v.Summary,
		"inLanguage":     v.Language,
		"dateCreated":    v.Created.UTC().Format(time.RFC3339),
		"version":        fmt.Sprint(v.Version),
		"encodingFormat": "application/vnd.ipld.dag-cbor",
	}
	if u := LicenceURI(v.Licence); u != "" {
		d["license"] = u
	}
	if len(v.Topics) > 0 {
		d["keywords"] = strings.Join(v.Topics, ", ")
	}
	place := map[string]any{"@type": "Place"}
	if v.Region != "" {
		place["name"] = v.Region
	}
	if v.Country != "" {
		place["address"] = map[string]any{"@type": "PostalAddress", "addressCountry": v.Country}
	}
	if len(place) > 1 {
		d["spatialCoverage"] = place
	}
	if len(v.AdaptedFrom) > 0 {
		var based []string
		for _, a := range v.AdaptedFrom {
			based = append(based, strings.TrimSuffix(pageURL, v.CID)+a.Practice)
		}
		d["isBasedOn"] = based
	}
	region := v.Region
	if m, ok := n.Member(v.Author); ok && m.Region != "" {
		region = m.Region
	}
	if region != "" {
		d["publisher"] = map[string]any{"@type": "Organization", "name": region}
	}
	return d
}

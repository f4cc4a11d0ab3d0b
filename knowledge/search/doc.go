// Package search is the node's local full-text index of public records
// (practices and lessons), built on bleve.
//
// # Derived data
//
// The Badger record store is the source of truth. This index is derived
// from it and holds nothing that cannot be recomputed: when Open reports
// ErrCorrupt (unreadable files, an interrupted Rebuild) or ErrStale (written
// by another SchemaVersion), the caller wipes it with Rebuild, feeding every
// current record from the store. A meta file beside the bleve files records
// the schema version and whether the last rebuild finished.
//
// Record versions are indexed by content id (CID). When a new version
// supersedes an old one, the caller deletes the old CID and puts the new
// one; a retraction is a Delete.
//
// # Languages
//
// Records are written in many languages (Finnish, Swedish, Norwegian,
// Danish, Icelandic, Irish, English, ...). Each record's text is indexed
// twice:
//
//   - in per-language fields (title_fi, summary_fi, lessons_fi, body_fi),
//     analysed with that language's stop words and Snowball stemmer as
//     shipped with bleve (da de en es fi fr it nl no pt sv; nb and nn use
//     Norwegian). Irish uses the Snowball Irish stemmer of the snowballstem
//     module under bleve, after bleve's Irish elision and stop words.
//     Icelandic has no stemmer anywhere in bleve or Snowball: it is
//     lowercased and folded to ASCII (ð→d, þ→th, æ→ae, accents dropped) and
//     handled by the stem-prefix fallback below. Languages outside this list
//     get no per-language fields.
//   - in cross-language fields (title, summary, lessons, body): Unicode word
//     segmentation, lowercase and ASCII folding, no stop words, no stemming.
//     Every record is here, so a query finds exact words in any language,
//     and a user may type "aldreomsorg" for "äldreomsorg".
//
// A query word is analysed with the analyzer of every language present in
// the index (or of the languages filtered on) and searched in that
// language's fields, and folded and searched in the cross-language fields.
// So Swedish "äldreomsorg" finds "äldreomsorgen" through the Swedish
// stemmer, without the searcher saying which language they typed.
//
// Stem-prefix fallback: Finnish inflection changes the end of the stem
// (consonant gradation, vowel changes), and the Snowball Finnish stemmer
// maps "ikääntynyt" to "ikääntyny" but "ikääntyneiden" to "ikääntyn". For
// Finnish and Icelandic, a query stem of at least 7 characters is also
// searched as a prefix with its last two characters removed (never shorter
// than 5), at 0.4 of the weight of an exact stem match.
//
// # Query syntax
//
//	elderly care            every word must match (AND), in any field
//	"home care"             a phrase
//	telecare -pilot         records with telecare but not pilot
//
// Typographic quotes count as quotes; an unbalanced quote is ErrBadQuery.
// Stop words of the languages searched are dropped unless the query has
// nothing else. Empty text matches everything that passes the filters,
// newest first.
//
// # Ranking, filters, facets
//
// Scores are bleve's TF-IDF. A match in the title counts 5, summary 3,
// lessons 2, body 1; the cross-language fields add half of that again, so
// an exact form ranks above a stemmed one. Filters (topic, region, country,
// stage, language, year, kind) are exact keyword matches that do not change
// scores; values of one filter are OR-ed, filters are AND-ed. Facet counts
// are exact over the whole filtered result set. Results sort by relevance
// or by date (newest first). Snippets are HTML-escaped fragments with the
// matched words in <mark> tags, computed from term locations of the page's
// hits only.
//
// # Benchmark corpus
//
// GenerateCorpus produces deterministic, realistic multilingual records for
// benchmarks and load tests elsewhere in the module.
package search

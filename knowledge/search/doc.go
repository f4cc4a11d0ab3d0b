// SPDX-License-Identifier: EUPL-1.2

// Package search is the node's local full-text index of public records
// (practices and lessons), built on bleve.
//
// # Derived data
//
// The Badger record store is the source of truth. This index is derived
// from it and holds nothing that cannot be recomputed: when Open reports
// ErrCorrupt (unreadable files, an interrupted Rebuild, writes missing after
// a restart) or ErrStale (written by another SchemaVersion; such errors also
// match ErrCorrupt), the caller calls Rebuild and feeds it every current
// record from the store. ErrLocked (the directory is open elsewhere) is not
// corruption and must not lead to a rebuild. A meta file beside the bleve
// files records the
// schema version, whether the last rebuild finished, and the write sequence
// number reached at the last Close.
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
//   - in the fields title, summary, lessons and body, analysed in the
//     record's language: every language with its own analysis is a bleve
//     document type with its analyzer, so all records share these fields
//     and a query word costs one lookup per field and distinct stem, not
//     one per language. The analysis is the language's stop words and
//     Snowball stemmer as shipped with bleve (da de en es fi fr it nl no pt
//     sv; nb and nn use Norwegian), then folding to ASCII. Irish uses
//     bleve's Irish elision and stop words and the Snowball Irish stemmer of
//     the snowballstem module bleve is built on, which also undoes initial
//     mutations ("nGaeilge", "Ghaeilge" → "gaeilge"). Icelandic has no
//     stemmer in bleve or Snowball: it is lowercased and folded (ð→d, þ→th,
//     æ→ae, accents dropped) and relies on the stem-prefix fallback below.
//     Records in other languages leave these fields empty.
//   - in one cross-language field, "all": Unicode word segmentation,
//     lowercase and ASCII folding, no stop words, no stemming. Every record
//     is there, so exact words are found in any language, records in other
//     languages are found at all, and a user may type "aldreomsorg" for
//     "äldreomsorg". Phrases are matched here, by word positions.
//
// Words of records in Finnish, Swedish, Norwegian, Danish, Icelandic and
// Irish are also indexed as their dictionary lemma and (but for Irish) the
// lemmas of their compound parts, from the lexicon package (Debian
// Hunspell dictionaries, Voikko for Finnish), before stemming: Swedish
// "äldreboendet" is also "äldre" and "boende", Finnish "kotihoidon" is
// also "koti" and "hoito", Icelandic "aldraðra" is also "aldraður". A
// record's translations (title and summary in other languages) are
// indexed in fields of their language and shown to readers of it.
//
// A query word is analysed with the analyzer of every language present in
// the index (or of the languages filtered on) and looked up in the text
// fields and that language's translation fields (its stem, its lemma, and
// all its compound parts at a lower weight, unless every part is common:
// found in more than a twentieth of the records and more than 2,000), and
// folded and looked up in the cross-language field. So Swedish
// "äldreomsorg" finds "äldreomsorgen" through the Swedish stemmer without
// the user saying which language they typed. The query's language is
// detected from the lexicons; only its stop words are dropped.
//
// Glossary: the glossary package lists the field's concepts in eight
// languages. At index time, a glossary term of the record's language found
// in a text (its words by stem or lemma, up to ten words apart) adds a
// concept term ("~home-care") to the field. Runs of query words that are a
// glossary term (by exact folded form, stem or lemma) also match the
// concept's term, at 0.6 of the weight: "home care" finds Finnish
// "kotihoito" and Swedish "hemtjänst", ranked below records that say
// "home care".
//
// Stem-prefix fallback: Finnish inflection changes the end of the stem
// (consonant gradation, vowel changes), and the Snowball Finnish stemmer
// maps "ikääntynyt" to "ikääntyny" but "ikääntyneiden" to "ikääntyn". For
// Finnish and Icelandic, a query stem of at least 8 characters also matches
// index terms starting with the stem minus its last two characters (never
// shorter than 6): the 8 most frequent such terms per field, at 0.4 of the
// weight of an exact stem match. Shorter stems are left alone, as their
// prefixes would match unrelated words.
//
// # Query syntax
//
//	elderly care            best match: records with more of the words first
//	"home care"             a phrase: these words in this order, as written
//	+telecare night         telecare is required, night is optional
//	telecare -pilot         records with telecare but not pilot
//
// Words are optional: a record must contain one of up to two words, then
// half of them (rounded up); bleve scales a record's score by the share of
// words it matches. Quoted phrases and +words are required. A word the
// tokenizer splits ("co-production") counts as its words. Phrases are
// matched in the cross-language field, so they are exact wording (ignoring
// case and diacritics), not stemmed.
// Typographic quotes count as quotes; an unbalanced quote, more than
// MaxQueryLength characters or more than MaxQueryClauses words is
// ErrBadQuery, and so is a query of stop words only. Empty text matches
// everything that passes the filters, newest first.
//
// # Ranking, filters, facets, snippets
//
// Scores are bleve's TF-IDF. A word found in the title field counts 5, summary 3, lessons 2, body 1; a match in the cross-language
// field adds 1, so an exact form ranks above another inflection. Filters
// (topic, region, country, stage, language, year, kind) are exact keyword
// matches that do not change scores; values of one filter are OR-ed,
// filters are AND-ed. Facet counts are exact over the whole filtered result
// set; they are computed by intersecting postings bitmaps with the bitmap
// of matching documents rather than by reading values per hit
// (facets.go). Results sort by relevance or by date (newest first).
// Snippets are HTML-escaped fragments of the stored text with the matched
// words in <mark> tags, for the page's hits only: the locations of exact
// words come from the cross-language field; those of the record's text
// fields, which the index does not keep, from analysing the page's texts
// again with each record's language.
//
// Queries of words sorted by relevance are not run through bleve's
// searchers but ranked term at a time over bleve's segments (topk.go):
// each term's postings are read once into per-clause accumulators, on
// every CPU, and every match is scored with bleve's formulas, which gives
// bleve's scores and order at a fraction of the cost of merging a
// disjunction of dozens of clauses record by record; a phrase is the
// conjunction of its words where their positions follow each other. Date
// order and queries without words use bleve's searchers.
//
// # Benchmark corpus
//
// GenerateCorpus produces deterministic multilingual records for
// benchmarks and load tests elsewhere in the module. The comparison with
// SQLite FTS5 lives in the package tests (RunQueryBench, run by
// TestSearchBenchReport with LIVINGLAB_BENCH=1), so the node binary does
// not link SQLite.
package search

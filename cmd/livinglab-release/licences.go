// SPDX-License-Identifier: EUPL-1.2

package main

// The licences that may be distributed with livinglab, which is licensed
// under the EUPL-1.2. Adding one is a decision about the whole release:
// write down why it is compatible.

// moduleLicences are the licences allowed for Go code linked into the
// livinglab binary. All are permissive, or (MPL-2.0) file-level copyleft
// that the EUPL names as compatible in its appendix; each keeps its notice in
// THIRD_PARTY_NOTICES.
var moduleLicences = map[string]string{
	"0BSD":         "permissive, no conditions",
	"Apache-2.0":   "permissive; its NOTICE files are reproduced",
	"BSD-2-Clause": "permissive; notice kept",
	"BSD-3-Clause": "permissive; notice kept",
	"BSL-1.0":      "permissive; notice kept with the source",
	"CC0-1.0":      "public domain dedication",
	"EUPL-1.2":     "the project's own licence",
	"ISC":          "permissive; notice kept",
	"MIT":          "permissive; notice kept",
	"MIT-0":        "permissive, no conditions",
	"MPL-2.0":      "file-level copyleft, listed as compatible in the EUPL-1.2 appendix; the modules' source is public",
	"Unlicense":    "public domain dedication",
	"Zlib":         "permissive; notice kept",
}

// dataLicences are the licences allowed for bundled data: the module
// licences, and licences of separate data files that are shipped beside the
// program and stay under their own licence (aggregation, not a derived work
// of the program).
var dataLicences = map[string]string{
	"CC-BY-3.0":         "attribution kept in SOURCES.json and here",
	"CC-BY-4.0":         "attribution kept in SOURCES.json and here",
	"CC-BY-SA-3.0":      "separate data under its own licence; the EUPL appendix names it for works other than software",
	"CC-BY-SA-4.0":      "separate data under its own licence",
	"GPL-2.0-only":      "separate data under its own licence; the EUPL appendix names the GPL as compatible",
	"GPL-2.0-or-later":  "separate data under its own licence; the EUPL appendix names the GPL as compatible",
	"GPL-3.0-only":      "separate data under its own licence; the EUPL appendix names the GPL as compatible",
	"GPL-3.0-or-later":  "separate data under its own licence; the EUPL appendix names the GPL as compatible",
	"LGPL-2.1-only":     "separate data under its own licence; the EUPL appendix names the LGPL as compatible",
	"LGPL-2.1-or-later": "separate data under its own licence; the EUPL appendix names the LGPL as compatible",
	"LGPL-3.0-only":     "separate data under its own licence; the EUPL appendix names the LGPL as compatible",
	"LGPL-3.0-or-later": "separate data under its own licence; the EUPL appendix names the LGPL as compatible",
	"MPL-1.1":           "separate data under its own licence",
	"ODbL-1.0":          "separate database under its own licence",
	"LicenseRef-SCOWL":  "the SCOWL word lists' permission notice: use, copy, modify, distribute and sell with the notice kept",
}

func moduleLicenceIDs() []string {
	var ids []string
	for id := range moduleLicences {
		ids = append(ids, id)
	}
	return ids
}

func allowedDataLicences() []string {
	var ids []string
	for id := range moduleLicences {
		ids = append(ids, id)
	}
	for id := range dataLicences {
		ids = append(ids, id)
	}
	return ids
}

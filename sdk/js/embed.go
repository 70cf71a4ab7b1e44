// Package js embeds the JavaScript client and its demo page, so that
// matchd's admin listener can serve the demo (/debug/play) from the binary
// itself, with the very files a game would import.
package js

import "embed"

// Files holds matchd.js, index.d.ts and demo/ (index.html, demo.js,
// demo.css), at the same paths as in this directory.
//
//go:embed matchd.js index.d.ts demo/index.html demo/demo.js demo/demo.css
var Files embed.FS

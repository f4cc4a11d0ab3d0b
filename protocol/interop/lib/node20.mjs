// SPDX-License-Identifier: EUPL-1.2
//
// js-libp2p 3 uses Promise.withResolvers (ES2024), which Node.js 22 has and
// Node.js 20 lacks. This is the standard's definition; it changes nothing
// on the wire. Imported before any libp2p module.

if (typeof Promise.withResolvers !== 'function') {
  Promise.withResolvers = function withResolvers () {
    let resolve, reject
    const promise = new this((res, rej) => { resolve = res; reject = rej })
    return { promise, resolve, reject }
  }
}

/**
 * Expressions tshark 4.0.17 refuses are refused here too, with one DisplayFilterError line that
 * names the offset (`display filter: ... at offset N`), exit status 2.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { compileDisplayFilter } from '../../src/dfilter/index.js'
import { DisplayFilterError, ExitStatus } from '../../src/errors.js'
import { registry } from './packets.js'

/** Asserts that `expr` is refused at `offset` with a message matching `re`. */
function refused(expr: string, offset: number, re: RegExp): void {
  assert.throws(() => compileDisplayFilter(expr, registry), (err: unknown) => {
    assert.ok(err instanceof DisplayFilterError, `${expr}: ${String(err)}`)
    assert.equal(err.code, 'NETKIT_ERR_DISPLAY_FILTER')
    assert.equal(err.exitStatus, ExitStatus.usage)
    assert.equal(err.offset, offset, `${expr}: ${err.message}`)
    assert.match(err.message, /^display filter: .* at offset \d+$/)
    assert.ok(!err.message.includes('\n'))
    assert.match(err.message, re, expr)
    return true
  })
}

describe('display filter errors', () => {
  it('unknown fields and functions', () => {
    refused('nosuch.field', 0, /"nosuch.field" is neither a field nor a protocol name at offset 0/)
    refused('tcp.port == 80 and nosuch', 19, /neither a field nor a protocol/)
    refused('ip.addr#1 == 1.2.3.4 or foo#1', 24, /neither a field/)
    refused('nosuchfunc(tcp.port) == 1', 0, /function 'nosuchfunc' does not exist/)
    refused('frame.number == ${nosuch}', 16, /macro 'nosuch' does not exist/)
  })

  it('syntax: missing operands, doubled operators, trailing operators, bad grouping', () => {
    refused('tcp.port = = 80', 9, /"=" was unexpected/)
    refused('tcp.port == 80 and', 18, /unexpected end of filter expression/)
    refused('tcp.port ==', 11, /unexpected end/)
    refused('== 80', 0, /"==" was unexpected/)
    refused('tcp.port == 80 80', 15, /"80" was unexpected/)
    refused('tcp.port == 80 && && ip', 18, /"&&" was unexpected/)
    refused('(tcp.port == 80', 15, /unexpected end/)
    refused('tcp.port == 80)', 14, /"\)" was unexpected/)
    refused('tcp.port 80', 9, /"80" was unexpected/)
    refused('tcp.port == 80 not', 15, /"not" was unexpected/)
    refused('not', 3, /unexpected end/)
    refused('', 0, /empty/)
    refused('tcp.flags.syn == 1 xor tcp.flags.fin == 1', 19, /"xor" was unexpected/)
    refused('tcp.port == 80 == 80', 15, /"==" was unexpected/)
  })

  it('sets: separators, empty sets, open ranges, non-field members', () => {
    refused('tcp.port in {80 443}', 16, /"443" was unexpected/)
    refused('tcp.port in {}', 13, /"}" was unexpected/)
    refused('tcp.port in {80,}', 16, /"}" was unexpected/)
    refused('tcp.port in {80..}', 17, /"}" was unexpected/)
    refused('lower(http.host) in {"a"}', 0, /only a field may be tested for membership/)
    refused('frame[0] in {00}', 0, /only a field/)
  })

  it('a literal on the left side, or alone', () => {
    refused('80 == tcp.port', 0, /left side of "==" expression must be a field or function, not 80/)
    refused('"GET" == http.request.method', 0, /must be a field or function/)
    refused('80', 0, /neither a field/)
    refused('{1 + tcp.srcport} == 81', 1, /constant arithmetic expression on the LHS/)
    refused('abs(-5) == 5', 4, /constant arithmetic/)
  })

  it('values that do not convert to the field type', () => {
    refused('tcp.port == "80"', 12, /cannot be converted from a string/)
    refused('tcp.port == 80.5', 12, /"80.5" is not a valid number/)
    refused('frame.len == 74.0', 13, /not a valid number/)
    refused('tcp.port == 8e1', 12, /not a valid number/)
    refused('tcp.port == 0x', 12, /not a valid number/)
    refused('tcp.flags.syn == true', 17, /cannot be found among the possible values/)
    refused('ip.src == "127.0.0.1"', 10, /cannot be converted from a string/)
    refused('ip.src == localhost', 10, /not a valid IPv4 address/)
    refused('ip.src == 127.0.0.256', 10, /not a valid IPv4/)
    refused('ip.src == 127.1', 10, /not a valid IPv4/)
    refused('ip.src == 127.0.0.1/33', 10, /should be <= 32, not 33/)
    refused('ipv6.addr == ::1/129', 13, /should be <= 128, not 129/)
    refused('ipv6.addr == "::1"', 13, /cannot be converted from a string/)
    refused('eth.src == 00:00:00:00:00', 11, /too few bytes/)
    refused('eth.src == 00:00:00:00:00:00:00', 11, /too many bytes/)
    refused('eth.src == "00:00:00:00:00:00"', 11, /cannot be converted from a string/)
    refused('frame[12:2] == 0x0800', 15, /not a valid byte string/)
  })

  it('lexical errors in literals', () => {
    refused('eth.src == 0:0:0:0:0:0', 12, /":0:0:0:0:0" was unexpected/)
    refused('frame[12:2] == 08:00:', 20, /":" was unexpected/)
    refused('frame.protocols == eth:ip', 22, /":ip" was unexpected/)
    refused('http.request.method == "\\q"', 24, /\\q is not a valid character escape sequence/)
    refused('http.request.method == "\\u0047ET"', 24, /not a valid universal character name/)
    refused('http.request.method == "unterminated', 23, /final quote was missing/)
    refused("http.request.method == 'GET'", 23, /too long to be a valid character constant/)
    refused("http.request.method == ''", 23, /empty character constant/)
    refused('http.request.method == "GET"x', 28, /"x" was unexpected/)
    refused('frame.time_epoch > 5.', 20, /"\." was unexpected/)
  })

  it('operators the types do not allow', () => {
    refused('tcp.port contains 80', 0, /tcp.port \(type=Unsigned integer\) cannot participate in contains comparison/)
    refused('ip.src contains "a"', 0, /cannot participate in contains/)
    refused('ipv6.addr contains 00', 0, /cannot participate in contains/)
    refused('tcp.flags.syn contains 1', 0, /cannot participate in contains/)
    refused('http.request.method matches GET', 28, /matches requires a double quoted string/)
    refused('tcp.port matches "8"', 0, /cannot participate in matches/)
    refused('tcp.port == ip.src', 12, /tcp.port and ip.src are not of compatible types/)
    refused('tcp.port == http', 12, /not of compatible types/)
    refused('tcp.options == tcp', 15, /not of compatible types/)
    refused('frame.number == frame.time_epoch', 16, /not of compatible types/)
    refused('tcp.flags.syn == tcp.port', 17, /not of compatible types/)
    refused('tcp[0:2] == tcp.srcport', 12, /not of compatible types/)
    refused('tcp.flags.syn & 1', 0, /Boolean cannot &/)
    refused('http.request.method & 47', 0, /string cannot &/)
  })

  it('slices and ranges 4.0 refuses', () => {
    refused('tcp.port[0] == 00', 0, /"tcp.port" is a Unsigned integer and cannot be sliced/)
    refused('frame[0:0] == 00', 6, /length 0 isn't positive/)
    refused('frame[2-1]', 6, /2 is greater or equal than 1/)
    refused('frame[-2-1]', 6, /different signs/)
    refused('frame[0:-1]', 6, /length -1 isn't positive/)
    refused('ip.addr#-1 == 1.2.3.4', 8, /expected digit or "\["/)
    refused('ip.addr#[2-] == 1.2.3.4', 9, /"2-" is not a valid range/)
  })

  it('function misuse', () => {
    refused('count(tcp.port)', 0, /cannot test whether a function is present/)
    refused('len("abc") == 3', 4, /only fields can be used as parameter for len\(\)/)
    refused('len(frame[0:4]) == 4', 4, /only fields/)
    refused('upper(tcp.port) == "80"', 6, /only string type fields/)
    refused('lower(http.request.method, http.request.method) == "a"', 0, /can only accept 1 argument/)
    refused('lower() == "a"', 0, /needs at least 1 argument/)
    refused('string(http.request.method) == "GET"', 7, /string conversion for field "http.request.method" is not supported/)
    refused('string(tcp.flags.syn) == "1"', 7, /not supported/)
    refused('http.request.method matches "("', 28, /regex compilation error/)
  })
})

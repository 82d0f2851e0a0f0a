import { describe, expect, it } from 'vitest';
import { validateConfig } from '../../../src/config/index.js';
import { acceptedForms, hostAllowed, isJsonContentType, originAllowed, parseListen } from '../../../src/http/checks.js';
import { headerMismatch } from '../../../src/http/modern.js';

describe('the http config section', () => {
  it('refuses auth "none" off loopback, a bad listen address and oauth without an issuer', () => {
    const problems = (http: unknown) => validateConfig({ http }).problems.map((p) => p.path);
    expect(problems({ listen: '127.0.0.1:7733', auth: 'none' })).toEqual([]);
    expect(problems({ listen: '[::1]:7733', auth: 'none' })).toEqual([]);
    expect(problems({ listen: '0.0.0.0:7733', auth: 'none' })).toEqual(['$.http.auth']);
    expect(problems({ listen: 'localhost' })).toEqual(['$.http.listen']);
    expect(problems({ listen: '0.0.0.0:7733', auth: 'oauth' })).toEqual(['$.http.oauth']);
  });
});

describe('Host, Origin, Accept and Content-Type checks', () => {
  const loopback = parseListen('127.0.0.1:7733');
  const wildcard = parseListen('0.0.0.0:7733');

  it('accepts the listener, loopback names on a loopback listener, and allowedHosts', () => {
    expect(hostAllowed('127.0.0.1:7733', loopback, [])).toBe(true);
    expect(hostAllowed('localhost:7733', loopback, [])).toBe(true);
    expect(hostAllowed('[::1]:7733', loopback, [])).toBe(true);
    expect(hostAllowed('evil.example:7733', loopback, [])).toBe(false);
    expect(hostAllowed('localhost:80', loopback, [])).toBe(false);
    expect(hostAllowed(undefined, loopback, [])).toBe(false);
    expect(hostAllowed('mcp.example.com', wildcard, ['mcp.example.com'])).toBe(true);
    expect(hostAllowed('MCP.example.com:443', wildcard, ['mcp.example.com'])).toBe(true);
    expect(hostAllowed('mcp.example.com:443', wildcard, ['mcp.example.com:8443'])).toBe(false);
    expect(parseListen('[::1]:9')).toEqual({ host: '::1', port: 9 });
  });

  it('accepts its own origin and listed ones only', () => {
    expect(originAllowed('http://127.0.0.1:7733', 'http://127.0.0.1:7733', [])).toBe(true);
    expect(originAllowed('http://evil.example', 'http://127.0.0.1:7733', [])).toBe(false);
    expect(originAllowed('https://app.example.com/', 'http://127.0.0.1:7733', ['https://app.example.com'])).toBe(true);
  });

  it('reads Accept and Content-Type', () => {
    expect(acceptedForms('application/json, text/event-stream')).toEqual({ json: true, sse: true });
    expect(acceptedForms('text/event-stream;q=1')).toEqual({ json: false, sse: true });
    expect(acceptedForms('*/*')).toEqual({ json: true, sse: false });
    expect(acceptedForms(undefined)).toEqual({ json: false, sse: false });
    expect(isJsonContentType('application/json; charset=utf-8')).toBe(true);
    expect(isJsonContentType('text/plain')).toBe(false);
  });

  it('checks 2026-07-28 headers against the body, Mcp-Name in plain or base64 form', () => {
    const request = (headers: Record<string, string>) => ({ headers }) as never;
    const base = { 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'tools/call' };
    const params = { name: 'échö' };
    const encoded = `=?base64?${Buffer.from('échö').toString('base64')}?=`;
    expect(
      headerMismatch(request({ ...base, 'mcp-name': encoded }), '2026-07-28', 'tools/call', params),
    ).toBeUndefined();
    expect(headerMismatch(request({ ...base, 'mcp-name': 'other' }), '2026-07-28', 'tools/call', params)).toMatch(
      /Mcp-Name/,
    );
    expect(headerMismatch(request(base), '2026-07-28', 'tools/call', params)).toMatch(/Mcp-Name/);
    expect(
      headerMismatch(request({ ...base, 'mcp-method': 'tools/list' }), '2026-07-28', 'tools/call', params),
    ).toMatch(/Mcp-Method/);
    expect(
      headerMismatch(request({ ...base, 'mcp-name': encoded }), '2026-07-28', 'tools/call', params),
    ).toBeUndefined();
    expect(headerMismatch(request({ 'mcp-method': 'tools/list' }), '2026-07-28', 'tools/list', undefined)).toMatch(
      /MCP-Protocol-Version/,
    );
  });
});

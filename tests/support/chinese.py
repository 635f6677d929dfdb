"""The rule "nothing on a Chinese page is English", for the browser tests that walk the pages.

What is checked: every text node under <body> (hidden ones too: a message a script shows later is
on the page already) and the attributes people read or hear: title, aria-label, placeholder, alt,
and the value of button-like inputs; the document's <title>; and the "messages" a page's script
shows, from its JSON config (<script type="application/json">).

What is not UI text, and so may be Latin script:
- the contents of <script>, <style>, <template>, <code>, <kbd>, <samp>, <pre>, and of any element
  marked `translate="no"`, `.data`/`.code` or with a `lang` that is not Chinese (the language
  switch's "English" is in English on purpose, marked lang="en"), and the bpmn.io watermark of
  the modeler (`.bjs-powered-by`: its licence forbids changing it);
- tokens that are data or codes: with a digit, an underscore, a dot, a slash, an @, a colon, a $
  or a brace in them (business keys like R2-C01-03, usernames like c01_liaison, file names, URLs, element ids);
- the usernames of the district (from the database: some are letters only, e.g. admin);
- the abbreviations and product names that Chinese office software uses as they are
  (ABBREVIATIONS: BPMN, Excel, Camunda Modeler, Microsoft Authenticator, ...).
Every other word of two or more Latin letters is a finding.
"""
from __future__ import annotations

import re
from urllib.parse import urljoin, urlsplit, urlunsplit

ABBREVIATIONS = frozenset({
    "BPMN", "XML", "PDF", "Excel", "CSV", "ID", "OK", "xlsx", "csv", "pdf", "png", "jpg", "jpeg", "docx",
    "doc", "xls", "bpmn", "svg", "zip", "JSON", "API", "URL", "HTTP", "HTTPS", "UTC", "TOTP", "App", "APP",
    "Word", "WPS", "KB", "MB", "GB", "Camunda", "English", "bpmn.io", "SHA", "QR", "PNG", "JPG", "Rectiflow",
    "FEEL", "EL", "DMN", "CMMN", "QName", "ISO", "cron", "Java", "Modeler", "Microsoft", "Google", "Authenticator", "FreeOTP",
})

# JavaScript run in the page: the texts to check, each with where it was found, and the page's links.
COLLECT = r"""
() => {
  const SKIP_TAGS = new Set(['SCRIPT', 'STYLE', 'TEMPLATE', 'CODE', 'KBD', 'SAMP', 'PRE', 'NOSCRIPT']);
  function exempt(el) {
    for (let e = el; e && e.nodeType === 1; e = e.parentElement) {
      if (SKIP_TAGS.has(e.tagName)) return true;
      if (e.getAttribute('translate') === 'no') return true;
      if (e.classList.contains('data') || e.classList.contains('code')) return true;
      if (e.classList.contains('bjs-powered-by')) return true;
      const lang = e.getAttribute('lang');
      if (lang !== null && e !== document.documentElement && !/^zh/i.test(lang)) return true;
    }
    return false;
  }
  function where(el) {
    const parts = [];
    for (let e = el; e && e.nodeType === 1 && parts.length < 4; e = e.parentElement) {
      parts.unshift(e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') +
        (e.classList.length ? '.' + Array.from(e.classList).slice(0, 2).join('.') : ''));
    }
    return parts.join(' > ');
  }
  const texts = [[document.title, 'title']];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    const t = n.nodeValue.trim();
    if (t && !exempt(n.parentElement)) texts.push([t, where(n.parentElement)]);
  }
  const READ = '[title], [aria-label], [placeholder], [alt], input[type=submit], input[type=button]';
  for (const el of document.body.querySelectorAll(READ)) {
    if (exempt(el)) continue;
    for (const a of ['title', 'aria-label', 'placeholder', 'alt']) {
      const v = el.getAttribute(a);
      if (v && v.trim()) texts.push([v.trim(), where(el) + '@' + a]);
    }
    if (el.tagName === 'INPUT' && (el.type === 'submit' || el.type === 'button') && el.value) {
      texts.push([el.value, where(el) + '@value']);
    }
  }
  // the texts a page's script shows later come in its JSON config: every "messages" string in it
  for (const script of document.querySelectorAll('script[type="application/json"]')) {
    let config;
    try { config = JSON.parse(script.textContent); } catch (e) { continue; }
    const walk = (value, path) => {
      if (typeof value === 'string') { texts.push([value, 'script#' + script.id + ' ' + path]); }
      else if (value && typeof value === 'object') {
        for (const [k, v] of Object.entries(value)) walk(v, path + '.' + k);
      }
    };
    walk(config && config.messages, 'messages');
  }
  const links = Array.from(document.querySelectorAll('a[href]'))
    .filter(a => !a.hasAttribute('download'))
    .map(a => a.href);
  // a filter form sent as it stands is a page too (GET forms only; nothing with a file)
  for (const form of document.querySelectorAll('form')) {
    if ((form.getAttribute('method') || 'get').toLowerCase() !== 'get' || form.querySelector('input[type=file]')) continue;
    const url = new URL(form.getAttribute('action') || '', location.href);  // form.action may be a field
    url.search = new URLSearchParams(new FormData(form)).toString();
    links.push(url.href);
  }
  return {texts, links};
}
"""

_TOKEN = re.compile(r"[^\s\u3000-\u303f\uff00-\uffef，。、：；！？（）《》“”‘’【】·—…()\[\]<>\"'|,;!?=+*×#%&~^]+")
_LATIN_WORD = re.compile(r"[A-Za-z]{2,}")
_DATA_MARK = re.compile(r"[0-9_./@:\\${}]")


def english_words(text: str, names: frozenset[str] = frozenset()) -> list[str]:
    """The Latin-script UI words in a text, under the rule in this module's docstring."""
    found = []
    for token in _TOKEN.findall(text):
        if token in names or _DATA_MARK.search(token):
            continue
        for word in _LATIN_WORD.findall(token):
            if word not in ABBREVIATIONS and word not in names:
                found.append(word)
    return found


def findings(collected: dict, names: frozenset[str]) -> list[str]:
    """'text  (where)' for every text of a page (COLLECT's answer) that has English in it."""
    return [f"{text!r}  ({place})" for text, place in collected["texts"] if english_words(text, names)]


# Links a walk does not follow: they change state, download a file, or leave the pages.
NOT_FOLLOWED = re.compile(r"/logout|/export|/download|\.xlsx|\.csv|\.bpmn|\.xml|\.pdf|/files/|/evidence/\d+|"
                          r"/static/|/api/|/raw|/xml\b|/attachments?/")


def page_pattern(url: str) -> str:
    """The page a URL shows, its ids and query values aside: /cases/12 and /cases/13 are one page."""
    parts = urlsplit(url)
    query = "&".join(sorted(q.split("=")[0] for q in parts.query.split("&") if q))
    return re.sub(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|\d+", "#", parts.path) + \
        ("?" + query if query else "")


def same_origin_links(origin: str, base: str, links: list[str]) -> list[str]:
    """The links to follow: same origin, fragment dropped, nothing in NOT_FOLLOWED."""
    out = []
    for href in links:
        url = urljoin(base, href)
        parts = urlsplit(url)
        if f"{parts.scheme}://{parts.netloc}" != origin or NOT_FOLLOWED.search(parts.path):
            continue
        out.append(urlunsplit((parts.scheme, parts.netloc, parts.path, parts.query, "")))
    return out

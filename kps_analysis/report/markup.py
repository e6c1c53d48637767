"""Safe markup for reports: the one escaping path of user text (:func:`escape_text`), the
table of contents of a report page and accessible HTML tables.
"""

from __future__ import annotations

import html
import re

import pandas as pd

#: Characters that are markup in HTML or Markdown (nbconvert's Markdown passes raw HTML
#: through and makes links of ``[x](javascript:...)``), written as numeric character
#: references, which both read as the plain character.
_MARKUP = {ord(c): f"&#{ord(c)};" for c in "\\`*_{}[]()#+-.!|~<>&\"'$=:"}


_LINE_BREAKS = re.compile(r"[\x00-\x1f\x7f\u2028\u2029]+")


def escape_text(text) -> str:
    """User text (a clinic's name, hospital, label, description, an error message) made
    inert for HTML and for Markdown rendered to HTML: the one escaping path of every
    report, ``index.html`` and the region overview.

    Every character that is markup in either language becomes a numeric character
    reference, so the text reads the same but nothing in it is a tag, an attribute, a
    link, emphasis or a code span; line breaks and control characters become one space
    (no new Markdown block can start). ``None`` gives "".

    Examples
    --------
    >>> escape_text('<img src=x onerror="alert(1)">')
    '&#60;img src&#61;x onerror&#61;&#34;alert&#40;1&#41;&#34;&#62;'
    >>> escape_text("Öron-, näs- och hals\\n# rubrik")
    'Öron&#45;, näs&#45; och hals &#35; rubrik'
    """
    if text is None:
        return ""
    return _LINE_BREAKS.sub(" ", str(text)).strip().translate(_MARKUP)


_HEADING = re.compile(r'<h([23]) id="([^"]+)"[^>]*>(.*?)</h\1>', re.S)


def add_table_of_contents(page: str, *, title: str = "Innehåll") -> str:
    """Insert a table of contents (``<nav class="kps-toc">``) after ``<main>``.

    It lists the page's ``<h2>`` and ``<h3>`` headings (nbconvert gives them ids), so
    the reader can jump to a section; it is hidden when printed. It replaces the page's
    :data:`TOC_SLOT` when there is one (the clinic report's first screen puts it after the
    verdict and the decision), else it comes first. A page without ``<main>`` or without
    headings is returned unchanged.

    Examples
    --------
    >>> page = '<main><h2 id="a">Läget</h2><h3 id="b">Kö</h3></main>'
    >>> "href=\\"#a\\"" in add_table_of_contents(page)
    True
    """
    items = []
    for level, anchor, inner in _HEADING.findall(page):
        # the heading's text only: tags dropped, references read, then escaped again
        text = html.unescape(re.sub(r"<[^>]+>", "", inner)).replace("¶", "")
        indent = ' style="margin-left:1.5em"' if level == "3" else ""
        items.append(f'<li{indent}><a href="#{escape_text(html.unescape(anchor))}">{escape_text(text)}</a></li>')
    if not items or "<main>" not in page:
        return page
    nav = (f'<nav class="kps-toc" aria-label="{escape_text(title)}"><strong>{escape_text(title)}</strong>'
           f'<ol>{"".join(items)}</ol></nav>')
    if TOC_SLOT in page:  # the report's first screen says where the contents go (after the decision)
        return page.replace(TOC_SLOT, nav, 1)
    return page.replace("<main>", "<main>" + nav, 1)


#: Where :func:`add_table_of_contents` puts the contents when a page has it (else first in ``<main>``).
TOC_SLOT = '<div class="kps-toc-slot"></div>'


_TH = re.compile(r"<th(?=[\s>])(?![^>]*\bscope=)([^>]*)>")


def html_table(table: pd.DataFrame, caption: str, *, index: bool = True, periods: bool = False) -> str:
    """A report table as accessible HTML: a ``<caption>`` and ``scope`` on every header cell.

    Column headers get ``scope="col"``, row headers (the index) ``scope="row"``; the
    caption is user-visible text (escaped). Values are shown as they are (the report's
    tables are already formatted text). ``periods=True`` marks a table whose row headers
    are periods (``v. 49 2026``): the report's print style keeps them on one line. The
    name of the row headers (``Mått``, ``Månad``) heads their column in the one header row
    (pandas would give it a second, nearly empty header row of its own).

    Examples
    --------
    >>> t = pd.DataFrame({"Värde": ["12"]}, index=pd.Index(["Kö"], name="Mått"))
    >>> out = html_table(t, "Nyckeltal")
    >>> "<caption>Nyckeltal</caption>" in out, 'scope="col"' in out, 'scope="row"' in out
    (True, True, True)
    >>> out.count("<tr"), '<th scope="col">Mått</th>' in out     # one header row and one body row
    (2, True)
    """
    classes = "kps-table kps-period-rows" if periods else "kps-table"
    if index and table.index.nlevels == 1 and table.columns.nlevels == 1 and table.index.name is not None \
            and table.columns.name is None:
        table = table.copy(deep=False)
        table.columns.name, table.index.name = table.index.name, None
    body = table.to_html(index=index, border=0, classes=classes, escape=True, na_rep="–")
    head, sep, rest = body.partition("</thead>")
    if sep:
        head = _TH.sub(r'<th scope="col"\1>', head)
        rest = _TH.sub(r'<th scope="row"\1>', rest)
        body = head + sep + rest
    else:
        body = _TH.sub(r'<th scope="col"\1>', body)
    return re.sub(r"(<table[^>]*>)", lambda m: f"{m.group(1)}<caption>{escape_text(caption)}</caption>", body,
                  count=1)

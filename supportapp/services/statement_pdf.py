"""A year-end statement as a PDF, drawn with fpdf2.

The text is set in Lato, from the fontpkg-lato package (a pinned requirement): PDF's own
core fonts know Latin-1 only, which has no € sign, and a newsroom's name or a supporter's
address may need more letters still. Nothing is downloaded when a PDF is made, and the
font is embedded (subset to the letters used), so the file reads the same everywhere.
"""
from functools import cache

import fontpkg
from fpdf import FPDF
from fpdf.fonts import FontFace

FAMILY = "Lato"
BODY_SIZE = 10
SMALL_SIZE = 8.5
GREY = (85, 85, 85)
RULE = (200, 195, 185)
HEADINGS = FontFace(emphasis="BOLD", fill_color=(240, 237, 228))
# Date, gift, amount, currency, refunded, status (relative widths).
GIFT_COLUMNS = (30, 18, 20, 14, 20, 28)
GIFT_ALIGN = ("LEFT", "LEFT", "RIGHT", "LEFT", "RIGHT", "LEFT")
TOTAL_COLUMNS = (20, 25, 25, 25)
TOTALS_WIDTH = 120  # mm: four short columns read better close together
TOTAL_ALIGN = ("LEFT", "RIGHT", "RIGHT", "RIGHT")


@cache
def font_files():
    """(regular, bold) paths of the font, as the installed package has them."""
    return str(fontpkg.path(FAMILY)), str(fontpkg.path(FAMILY, weight=700))


class _StatementPDF(FPDF):
    def __init__(self, statement):
        super().__init__(format="A4", unit="mm")
        self.statement = statement
        regular, bold = font_files()
        self.add_font(FAMILY, "", regular)
        self.add_font(FAMILY, "B", bold)
        self.set_margins(18, 18, 18)
        self.set_auto_page_break(True, margin=20)

    def footer(self):
        self.set_y(-14)
        self.set_font(FAMILY, "", SMALL_SIZE)
        self.set_text_color(*GREY)
        statement = self.statement
        self.cell(0, 5, f"{statement.org_legal_name} · statement of gifts {statement.year}"
                  f" · page {self.page_no()} of {{nb}}", align="C")


def render_statement_pdf(statement):
    """The PDF (bytes) of a Statement (services/statements.py): who received the gifts,
    each gift, the totals per currency and what they mean, and the receipt note."""
    pdf = _StatementPDF(statement)
    pdf.set_title(f"Statement of gifts {statement.year}")
    pdf.set_author(statement.org_legal_name)
    pdf.set_creator(statement.site_name)
    pdf.set_lang("en")
    pdf.set_creation_date(statement.issued_at)
    pdf.add_page()
    _heading(pdf, statement)
    _gifts(pdf, statement)
    _totals(pdf, statement)
    _notes(pdf, statement)
    return bytes(pdf.output())


def _paragraph(pdf, text, size=BODY_SIZE, bold=False, grey=False, after=1.5):
    pdf.set_font(FAMILY, "B" if bold else "", size)
    pdf.set_text_color(*(GREY if grey else (0, 0, 0)))
    pdf.multi_cell(0, size * 0.5, text, align="L", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(after)


def _heading(pdf, statement):
    _paragraph(pdf, statement.org_legal_name, size=15, bold=True, after=0.5)
    _paragraph(pdf, statement.org_address, grey=True, after=3)
    pdf.set_draw_color(*RULE)
    pdf.line(pdf.l_margin, pdf.get_y(), pdf.w - pdf.r_margin, pdf.get_y())
    pdf.ln(5)
    _paragraph(pdf, f"Statement of gifts {statement.year}", size=17, bold=True, after=2)
    _paragraph(pdf, f"For: {statement.email}", after=0.5)
    _paragraph(pdf, f"Issued: {statement.issued_text}", after=0.5)
    _paragraph(pdf, f"Gifts paid from {statement.period_text}", after=2)
    if not statement.complete:
        _paragraph(pdf, f"{statement.year} is not over: gifts made later this year are not "
                        "on this statement.", grey=True, after=2)
    pdf.ln(2)


def _table(pdf, widths, align, headings, rows, width=None):
    pdf.set_font(FAMILY, "", BODY_SIZE)
    pdf.set_text_color(0, 0, 0)
    with pdf.table(width=width, align="LEFT", col_widths=widths, text_align=align,
                   headings_style=HEADINGS,
                   line_height=BODY_SIZE * 0.55, padding=1.2, borders_layout="HORIZONTAL_LINES",
                   first_row_as_headings=True) as table:
        for cells in (headings, *rows):
            row = table.row()
            for text in cells:
                row.cell(text)
    pdf.ln(4)


def _gifts(pdf, statement):
    _paragraph(pdf, "Your gifts", size=12, bold=True, after=1)
    _table(pdf, GIFT_COLUMNS, GIFT_ALIGN,
           ("Date", "Gift", "Amount", "Currency", "Refunded", "Status"),
           [(line.date_text, line.kind_text, line.amount_text, line.currency,
             line.refunded_text, line.status_text) for line in statement.lines])


def _totals(pdf, statement):
    _paragraph(pdf, "Totals", size=12, bold=True, after=1)
    if statement.totals:
        _table(pdf, TOTAL_COLUMNS, TOTAL_ALIGN, ("Currency", "Paid", "Refunded", "Total"),
               [(total.currency, total.paid_text, total.refunded_text, total.total_text)
                for total in statement.totals], width=TOTALS_WIDTH)
    else:
        _paragraph(pdf, "No payment is counted this year.", after=3)


def _notes(pdf, statement):
    for note in statement.meaning:
        _paragraph(pdf, note, grey=True, after=1)
    pdf.ln(2)
    if statement.receipt_note:
        _paragraph(pdf, statement.receipt_note, after=3)
    _paragraph(pdf, f"Received by {statement.org_legal_name}, {statement.org_address}.",
               after=0)

"""Receipt text as an ESC/POS printer prints it (monospace, 32 or 48 columns), pure."""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from dataclasses import dataclass

from boxoffice.core.money import format_thb

WIDTH_CHARS = {58: 32, 80: 48}


@dataclass(frozen=True)
class ReceiptLine:
    name: str
    qty: int
    amount: int


@dataclass(frozen=True)
class ReceiptData:
    store_name: str
    tax_id: str | None
    sale_ref: str
    printed_at: str
    lines: Sequence[ReceiptLine]
    subtotal: int
    discount_total: int
    tax_total: int
    grand_total: int
    payment: str
    tendered: int
    change: int
    qr_text: str
    fee_total: int = 0  # the payment type's surcharge, paid on top of the total


def _center(text: str, width: int) -> list[str]:
    return [line.center(width).rstrip() for line in textwrap.wrap(text, width) or [""]]


def _pair(left: str, right: str, width: int) -> str:
    space = max(1, width - len(left) - len(right))
    if len(left) + len(right) + 1 > width:
        left = left[: width - len(right) - 2] + "…"
        space = 1
    return f"{left}{' ' * space}{right}"


def render(data: ReceiptData, *, header: str, footer: str, paper_width: int, blocks: Sequence[str]) -> str:
    width = WIDTH_CHARS[paper_width]
    rule = "-" * width
    out: list[str] = []
    for block in blocks:
        if block == "header":
            for text in [data.store_name, *header.splitlines()]:
                out.extend(_center(text, width))
            if data.tax_id:
                out.extend(_center(f"Tax ID {data.tax_id}", width))
            out.append(_pair(data.sale_ref, data.printed_at, width))
            out.append(rule)
        elif block == "items":
            for line in data.lines:
                out.append(_pair(f"{line.qty} x {line.name}", format_thb(line.amount), width))
            out.append(rule)
        elif block == "totals":
            out.append(_pair("Subtotal", format_thb(data.subtotal), width))
            if data.discount_total:
                out.append(_pair("Discount", format_thb(-data.discount_total), width))
            out.append(_pair("TOTAL", format_thb(data.grand_total), width))
            out.append(_pair("incl. VAT", format_thb(data.tax_total), width))
            if data.fee_total:
                out.append(_pair(f"{data.payment} fee", format_thb(data.fee_total), width))
                out.append(_pair("TO PAY", format_thb(data.grand_total + data.fee_total), width))
        elif block == "payment":
            out.append(_pair(data.payment, format_thb(data.tendered), width))
            out.append(_pair("Change", format_thb(data.change), width))
        elif block == "qr":
            out.extend(_center(f"[QR] {data.qr_text}", width))
        elif block == "footer":
            out.append(rule)
            for text in footer.splitlines():
                out.extend(_center(text, width))
    return "\n".join(out) + "\n"


ESC_INIT = b"\x1b@"  # ESC @: reset the printer
ESC_THAI_CODEPAGE = b"\x1bt\x15"  # ESC t 21: code page 874 (Thai), which has ฿
FEED_AND_CUT = b"\n\n\n\x1dV\x01"  # feed, then GS V 1: partial cut


def to_escpos(text: str) -> bytes:
    """The bytes an ESC/POS printer takes for `text`: init, Thai code page, the lines, cut."""
    return ESC_INIT + ESC_THAI_CODEPAGE + text.encode("cp874", errors="replace") + FEED_AND_CUT

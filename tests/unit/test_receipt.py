"""Receipt text fits the paper: 32 columns on 58 mm, 48 on 80 mm, blocks in the chosen order."""

from __future__ import annotations

import pytest

from boxoffice.settings.receipt import ReceiptData, ReceiptLine, render

SAMPLE = ReceiptData(
    store_name="Bangkok Central",
    tax_id="0105559999999",
    sale_ref="Sale 7KD2",
    printed_at="2031-03-14 12:00",
    lines=[ReceiptLine("A very long package name that will not fit on narrow paper", 2, 30_000)],
    subtotal=30_000,
    discount_total=0,
    tax_total=1_963,
    grand_total=30_000,
    payment="Cash",
    tendered=50_000,
    change=20_000,
    qr_text="scan",
)


@pytest.mark.parametrize(("paper", "width"), [(58, 32), (80, 48)])
def test_lines_fit_the_paper(paper: int, width: int) -> None:
    text = render(
        SAMPLE,
        header="Welcome!\nOpen 10-20",
        footer="Thank you",
        paper_width=paper,
        blocks=["header", "items", "totals", "payment", "qr", "footer"],
    )
    assert all(len(line) <= width for line in text.splitlines())
    assert "฿300.00" in text
    assert "Discount" not in text  # only when there is one


def test_blocks_follow_the_settings_order() -> None:
    text = render(SAMPLE, header="H", footer="F", paper_width=80, blocks=["totals", "header"])
    assert text.index("TOTAL") < text.index("Bangkok Central")
    assert "Cash" not in text


def test_escpos_bytes_start_with_init_and_end_with_a_cut() -> None:
    from boxoffice.settings.receipt import to_escpos

    raw = to_escpos("TOTAL ฿300.00\n")
    assert raw.startswith(b"\x1b@\x1bt\x15")
    assert raw.endswith(b"\x1dV\x01")
    assert b"\xdf300.00" in raw  # ฿ in code page 874

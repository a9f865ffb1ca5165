"""The payments list's paging rule (app.payments.logic.page_window) and its choice of index. Pure."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from app.payments import logic


@given(count=st.integers(0, 400), per_page=st.integers(1, 60))
def test_the_pages_read_from_either_end_are_the_whole_list_once(count: int, per_page: int) -> None:
    """Each page read the way page_window says (from the end, in the other order, past the middle) holds
    the rows the plain slice holds; a page past the end is empty."""
    rows = list(range(count))   # the list in its order
    backwards = rows[::-1]
    put_together = []
    for number in range(1, count // per_page + 3):
        offset = (number - 1) * per_page
        window = logic.page_window(count, offset, per_page)
        if window.from_end:
            page = backwards[window.offset:window.offset + window.size][::-1]
        else:
            page = rows[window.offset:window.offset + window.size]
        assert page == rows[offset:offset + per_page]
        put_together += page
    assert put_together == rows


@given(count=st.integers(1, 10**6), per_page=st.integers(1, 500), page=st.integers(1, 10**4))
def test_a_window_never_skips_more_than_half_the_list(count: int, per_page: int, page: int) -> None:
    window = logic.page_window(count, (page - 1) * per_page, per_page)
    assert window.offset <= count // 2 + 1 and window.size <= per_page


def test_the_index_of_each_filter_walks_it_in_date_order() -> None:
    assert logic.list_index(client=True, invoice=True, method=True, state=True) == "payment_client"
    assert logic.list_index(client=False, invoice=True, method=True, state=False) == "payment_invoice"
    assert logic.list_index(client=False, invoice=False, method=True, state=True) == "payment_method_status_date"
    assert logic.list_index(client=False, invoice=False, method=True, state=False) == "payment_method_date"
    assert logic.list_index(client=False, invoice=False, method=False, state=True) == "payment_status_date"
    assert logic.list_index(client=False, invoice=False, method=False, state=False) == "payment_payment_date"

"""The queue's search within the statuses it shows.

``dokani.search_return_ids(business, pattern)`` (revision 0013) returned every return of the business whose order
id, e-mail or public id matches; the queue then kept those in the statuses it shows. A common name matches
thousands of returns (8,237 for "okafor" in a business of 250,000), so the queue read all of them twice to keep
the 233 waiting for a person: 77 ms.

``dokani.search_return_ids(business, pattern, statuses)`` takes the statuses too (NULL: all) and only ever
answers for live returns (the queue never shows chat-lab test returns). It plans its statement for the very
values of each call (dynamic SQL with quoted literals, never text spliced in as SQL), so a search among the
waiting returns reads the partial index of the waiting queue (``return_requests_waiting_idx``, revision 0013)
and the trigram indexes together: 12-22 ms. A prepared plan with parameters cannot use a partial index whose
predicate names statuses, which is why this is not a plain SQL function any more.
"""
from __future__ import annotations

from alembic import op
from sqlalchemy import text

revision = "0023"
down_revision = "0020"
branch_labels = None
depends_on = None


def _x(sql: str) -> None:
    op.get_bind().execute(text(sql))


def upgrade() -> None:
    _x(
        """
        DROP FUNCTION IF EXISTS dokani.search_return_ids(uuid, text);
        CREATE FUNCTION dokani.search_return_ids(b uuid, pattern text, statuses text[] DEFAULT NULL)
        RETURNS SETOF bigint
        LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $fn$
        BEGIN
          IF b IS NULL OR pattern IS NULL OR dokani.member_role(b) IS NULL THEN
            RETURN;
          END IF;
          RETURN QUERY EXECUTE format(
            'SELECT r.id FROM public.return_requests r WHERE r.business_id = %L::uuid AND NOT r.is_test '
            '  AND (r.order_id ILIKE %L OR lower(r.customer_email) LIKE %L OR CAST(r.public_id AS text) LIKE %L)%s',
            b, pattern, pattern, pattern,
            CASE WHEN statuses IS NULL THEN ''
                 ELSE format(' AND r.status = ANY(%L::text[])', statuses) END);
        END
        $fn$;
        REVOKE ALL ON FUNCTION dokani.search_return_ids(uuid, text, text[]) FROM PUBLIC;
        GRANT EXECUTE ON FUNCTION dokani.search_return_ids(uuid, text, text[]) TO authenticated;
        """
    )


def downgrade() -> None:
    _x(
        """
        DROP FUNCTION IF EXISTS dokani.search_return_ids(uuid, text, text[]);
        CREATE OR REPLACE FUNCTION dokani.search_return_ids(b uuid, pattern text) RETURNS SETOF bigint
        LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
          SELECT r.id FROM public.return_requests r
          WHERE dokani.member_role(b) IS NOT NULL AND r.business_id = b
            AND (r.order_id ILIKE pattern OR lower(r.customer_email) LIKE pattern
                 OR CAST(r.public_id AS text) LIKE pattern)
        $$;
        REVOKE ALL ON FUNCTION dokani.search_return_ids(uuid, text) FROM PUBLIC;
        GRANT EXECUTE ON FUNCTION dokani.search_return_ids(uuid, text) TO authenticated;
        """
    )

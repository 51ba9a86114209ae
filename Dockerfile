FROM python:3.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
# libldap and libsasl: python-ldap's run-time libraries (LDAP sign-on, accounts/directory.py).
RUN apt-get update && apt-get install -y --no-install-recommends gettext libldap-2.5-0 libsasl2-2 \
    && rm -rf /var/lib/apt/lists/*
RUN useradd --system --home /app rightsguard && mkdir -p /var/lib/rightsguard/media && chown rightsguard /var/lib/rightsguard/media
WORKDIR /app
COPY pyproject.toml README.md ./
# python-ldap compiles against OpenLDAP's and SASL's headers; the compiler and headers leave the image afterwards.
RUN apt-get update && apt-get install -y --no-install-recommends gcc libc6-dev libldap2-dev libsasl2-dev \
    && pip install --no-cache-dir . \
    && apt-get purge -y gcc libc6-dev libldap2-dev libsasl2-dev && apt-get autoremove -y \
    && rm -rf /var/lib/apt/lists/*
COPY . .
RUN python manage.py compilemessages -v0 && DJANGO_DEBUG=1 python manage.py collectstatic --no-input -v0
USER rightsguard
EXPOSE 8000
CMD ["gunicorn", "rightsguard.wsgi", "-c", "deploy/gunicorn.conf.py", "--bind", "0.0.0.0:8000", "--workers", "3"]

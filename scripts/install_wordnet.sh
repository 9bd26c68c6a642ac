#!/usr/bin/env bash
# Install the WordNet 3.0 database (Debian/Ubuntu package wordnet-base) for segmix.wordnet.
# Idempotent: exits 0 at once when the data is already there. NLTK, which reads it, is the
# Python extra: pip install 'segmix[wordnet]'.
set -euo pipefail

WORDNET_DIR="${SEGMIX_WORDNET_DIR:-/usr/share/wordnet}"
PACKAGE=wordnet-base

has_data() {
    local f
    for f in data.noun data.verb data.adj data.adv index.noun index.verb index.adj index.adv \
             noun.exc verb.exc adj.exc adv.exc; do
        [ -f "$WORDNET_DIR/$f" ] || return 1
    done
}

if has_data; then
    echo "WordNet is already installed in $WORDNET_DIR"
    exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
    echo "apt-get not found: install the WordNet 3.0 database by other means and set" \
         "SEGMIX_WORDNET_DIR to its directory" >&2
    exit 1
fi

SUDO=()
if [ "$(id -u)" -ne 0 ]; then
    if ! command -v sudo >/dev/null 2>&1; then
        echo "not root and sudo not found: run as root: apt-get install" \
             "--no-install-recommends $PACKAGE" >&2
        exit 1
    fi
    SUDO=(sudo)
fi

if ! dpkg-query -W -f='${Status}' "$PACKAGE" 2>/dev/null | grep -q "install ok installed"; then
    "${SUDO[@]}" apt-get update
    "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive \
        apt-get install -y --no-install-recommends "$PACKAGE"
fi

if has_data; then
    echo "WordNet installed in $WORDNET_DIR"
else
    echo "$PACKAGE is installed but $WORDNET_DIR lacks the WordNet database files" \
         "(is SEGMIX_WORDNET_DIR set to another directory?)" >&2
    exit 1
fi

"""Local actors' RSA key pairs. The private key is stored encrypted with a key derived
from AUTH_SECRET; it is decrypted only to sign, and never logged or answered."""

import base64
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

from cryptography.fernet import Fernet
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from panamia.federation.models import ActorKey


@dataclass(frozen=True)
class LocalKey:
    actor_id: str
    public_key_pem: str
    private_key_encrypted: bytes
    approve_followers: bool
    gone_at: datetime | None

    def private_key(self, secret: str) -> rsa.RSAPrivateKey:
        return _decrypted(self.private_key_encrypted, secret)

    def __repr__(self) -> str:  # keeps the encrypted key out of logs and tracebacks
        return f"LocalKey({self.actor_id!r})"


@lru_cache(maxsize=256)
def _decrypted(encrypted: bytes, secret: str) -> rsa.RSAPrivateKey:
    """Loading checks the RSA key, which takes milliseconds: once per key and process."""
    pem = _fernet(secret).decrypt(encrypted)
    return serialization.load_pem_private_key(pem, password=None)


@lru_cache(maxsize=4)
def _fernet(secret: str) -> Fernet:
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
                   info=b"panamia federation actor keys").derive(secret.encode())
    return Fernet(base64.urlsafe_b64encode(derived))


def _new_pair(secret: str) -> tuple[str, bytes]:
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public_pem = private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    private_pem = private.private_bytes(serialization.Encoding.PEM,
                                        serialization.PrivateFormat.PKCS8,
                                        serialization.NoEncryption())
    return public_pem, _fernet(secret).encrypt(private_pem)


async def find_key(session: AsyncSession, actor_id: str) -> LocalKey | None:
    row = (await session.execute(
        select(ActorKey.actor_id, ActorKey.public_key_pem, ActorKey.private_key_encrypted,
               ActorKey.approve_followers, ActorKey.gone_at)
        .where(ActorKey.actor_id == actor_id)
    )).first()
    return LocalKey(*row) if row else None


async def ensure_key(session: AsyncSession, actor_id: str, secret: str) -> LocalKey:
    """The actor's key pair, made on first use (two first uses at once keep one)."""
    found = await find_key(session, actor_id)
    if found is not None:
        return found
    public_pem, encrypted = _new_pair(secret)
    await session.execute(insert(ActorKey).values(
        actor_id=actor_id, public_key_pem=public_pem, private_key_encrypted=encrypted,
    ).on_conflict_do_nothing(index_elements=[ActorKey.actor_id]))
    return await find_key(session, actor_id)
